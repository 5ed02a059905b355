/// Response ids in each vendor's style, random so they never reveal request order.
public enum ResponseID {
    static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// `prefix` and 24 characters drawn uniformly from `alphabet`. The system generator is a
    /// syscall per call, so it is asked for 8 bytes at a time (about 4 calls per id, not 24+);
    /// a byte of 248 or more is skipped, because 248 = 4 × 62 keeps every character equally likely.
    public static func make(prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        var id = Array(prefix.utf8)
        let length = id.count + 24
        while id.count < length {
            var word: UInt64 = generator.next()
            for _ in 0..<8 where id.count < length {
                let byte = UInt8(truncatingIfNeeded: word)
                word >>= 8
                if byte < 248 { id.append(alphabet[Int(byte % 62)]) }
            }
        }
        return String(decoding: id, as: UTF8.self)
    }

    /// `chatcmpl-…`, `cmpl-…` or `msg_…`.
    public static func make(for route: InferenceRequest.Route) -> String {
        switch route {
        case .chatCompletions: make(prefix: "chatcmpl-")
        case .completions: make(prefix: "cmpl-")
        case .messages: make(prefix: "msg_")
        }
    }
}
