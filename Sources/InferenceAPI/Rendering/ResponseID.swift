/// Response ids in each vendor's style, random so they never reveal request order.
public enum ResponseID {
    public static func make(prefix: String) -> String {
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        var generator = SystemRandomNumberGenerator()
        return prefix + String((0..<24).map { _ in alphabet[Int(generator.next(upperBound: UInt32(alphabet.count)))] })
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
