/// One server-sent event: the `event:` name (nil when the server sent none) and the joined
/// `data:` lines.
public struct SSEEvent: Sendable, Equatable {
    public var name: String?
    public var data: String

    public init(name: String? = nil, data: String) {
        self.name = name
        self.data = data
    }
}

/// Why an event stream could not be framed.
public enum SSEParseError: Error, Equatable, CustomStringConvertible {
    case eventTooLarge(limit: Int)

    public var description: String {
        switch self {
        case .eventTooLarge(let limit):
            "server-sent event exceeds the \(limit)-byte limit without a blank line ending it"
        }
    }
}

/// Incremental WHATWG server-sent-events framing over byte chunks split anywhere.
///
/// Every streaming adapter feeds network buffers in as they arrive; an event is only emitted at
/// its terminating blank line, so a chunk boundary inside a line, a UTF-8 sequence or a CRLF pair
/// never corrupts it. Lines end in LF, CRLF or a lone CR. Comments (`:` lines), `id:` and
/// `retry:` are ignored; events with no `data:` line are dropped (as browsers do). `[DONE]` is an
/// ordinary data payload here; the OpenAI decoder gives it meaning. The size limit bounds the
/// memory one hostile or broken peer can make us hold.
///
/// The one SSE parser of the code base: provider adapters read upstream streams with it, and
/// clients (`GatewayClient`, gatewayctl) read the gateway's own streams with it, so both sides
/// agree on what an event is.
public struct SSEParser: Sendable {
    public let maxEventBytes: Int
    private var line: [UInt8] = []
    private var eventBytes = 0
    private var name: String?
    private var dataLines: [String] = []
    private var lastWasCR = false

    public init(maxEventBytes: Int = 4 << 20) { self.maxEventBytes = maxEventBytes }

    /// Consumes the next chunk and returns the events it completed, in order.
    public mutating func feed<Bytes: Sequence<UInt8>>(_ bytes: Bytes) throws(SSEParseError) -> [SSEEvent] {
        var events: [SSEEvent] = []
        for byte in bytes {
            if lastWasCR {
                lastWasCR = false
                if byte == 0x0A { continue }
            }
            switch byte {
            case 0x0A:
                if let event = endLine() { events.append(event) }
            case 0x0D:
                lastWasCR = true
                if let event = endLine() { events.append(event) }
            default:
                eventBytes += 1
                guard eventBytes <= maxEventBytes else { throw .eventTooLarge(limit: maxEventBytes) }
                line.append(byte)
            }
        }
        return events
    }

    /// The event left when the stream ends without a final blank line; WHATWG discards it, but
    /// providers that close right after the last `data:` line mean it, so it is returned.
    public mutating func finish() -> SSEEvent? {
        if !line.isEmpty { _ = endLine() }
        return dispatch()
    }

    private mutating func endLine() -> SSEEvent? {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty { return dispatch() }
        if line.first == UInt8(ascii: ":") { return nil }
        let field: ArraySlice<UInt8>
        var value: ArraySlice<UInt8>
        if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            field = line[..<colon]
            value = line[(colon + 1)...]
            if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
        } else {
            field = line[...]
            value = []
        }
        switch String(decoding: field, as: UTF8.self) {
        case "data": dataLines.append(String(decoding: value, as: UTF8.self))
        case "event": name = String(decoding: value, as: UTF8.self)
        default: break
        }
        return nil
    }

    private mutating func dispatch() -> SSEEvent? {
        defer {
            name = nil
            dataLines = []
            eventBytes = 0
        }
        guard !dataLines.isEmpty else { return nil }
        return SSEEvent(name: name, data: dataLines.joined(separator: "\n"))
    }
}
