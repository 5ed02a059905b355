/// An indeterminate-length Binary HTTP response (RFC 9292 §3.2, framing indicator 3) written
/// in parts, so a streamed body leaves as it is produced: `head` once, `contentChunk` per piece
/// of content, then `end`. Concatenated, the parts are one valid `message/bhttp` response,
/// which is what the gateway puts inside a chunked OHTTP response (one part per sealed chunk).
public enum BinaryHTTPResponseWriter {
    /// Framing indicator, final status and the header section, with its zero terminator.
    public static func head(status: Int, headerFields: [HTTPField]) throws(BinaryHTTPError) -> [UInt8] {
        var writer = BinaryHTTPWriter()
        try writer.varint(3)
        try writer.status(status, allowed: 200...599)
        var validator = FieldValidator(.header)
        for field in headerFields {
            let name = Array(field.name.lowercased().utf8)
            let value = Array(field.value.utf8)
            _ = try validator.field(name: name, value: value, offset: nil)
            try writer.lengthPrefixed(name)
            try writer.lengthPrefixed(value)
        }
        try writer.varint(0)
        return writer.out
    }

    /// One content chunk (`varint(len) ‖ bytes`). Empty content would read as the terminator,
    /// so it encodes as nothing.
    public static func contentChunk(_ bytes: [UInt8]) throws(BinaryHTTPError) -> [UInt8] {
        guard !bytes.isEmpty else { return [] }
        var writer = BinaryHTTPWriter()
        try writer.lengthPrefixed(bytes)
        return writer.out
    }

    /// The content terminator followed by an empty trailer section.
    public static let end: [UInt8] = [0, 0]
}

/// Reads a Binary HTTP response incrementally from arbitrary byte splits: the head as soon as
/// it is complete, each content chunk of an indeterminate-length response as it arrives, and
/// the end. A known-length response (framing indicator 1) cannot be split; it is decoded whole
/// by `finish`. This is the client half of `BinaryHTTPResponseWriter`, and it reads any
/// conforming encoder's output, not only ours.
public struct BinaryHTTPResponseReader: Sendable {
    public enum Part: Hashable, Sendable {
        /// The final status and header fields (informational responses are skipped).
        case head(status: Int, headerFields: [HTTPField])
        case content([UInt8])
        case end(trailerFields: [HTTPField])
    }

    private enum State: Sendable {
        case head, content, trailers, done, knownLength
    }

    private let limits: BinaryHTTPLimits
    private var state = State.head
    private var buffer: [UInt8] = []
    private var contentLength = 0

    public init(limits: BinaryHTTPLimits = .default) {
        self.limits = limits
    }

    /// Consumes the next bytes and returns the parts they completed, in order.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(BinaryHTTPError) -> [Part] {
        buffer.append(contentsOf: bytes)
        var parts: [Part] = []
        while let part = try next() { parts.append(part) }
        return parts
    }

    /// Ends the message: returns what is left and fails if the response is incomplete.
    public mutating func finish() throws(BinaryHTTPError) -> [Part] {
        switch state {
        case .knownLength:
            let response = try BinaryHTTPResponse(decoding: buffer, limits: limits)
            state = .done
            return [
                .head(status: response.status, headerFields: response.headerFields), .content(response.content),
                .end(trailerFields: response.trailerFields),
            ]
        case .done:
            return []
        case .trailers where buffer.isEmpty:
            // RFC 9292 §3.8: an empty trailer section may be truncated away.
            state = .done
            return [.end(trailerFields: [])]
        case .head, .content, .trailers:
            throw .truncated(Truncation(field: "binary HTTP response \(state)", offset: 0, needed: 1, available: buffer.count))
        }
    }

    /// One complete part from the front of the buffer, or nil when more bytes are needed.
    private mutating func next() throws(BinaryHTTPError) -> Part? {
        var reader = ByteReader<BinaryHTTPError>(buffer)
        do throws(BinaryHTTPError) {
            switch state {
            case .knownLength:
                return nil
            case .done:
                if let index = buffer.firstIndex(where: { $0 != 0 }) { throw .nonZeroPadding(offset: index) }
                buffer.removeAll()
                return nil
            case .head:
                let indicator = try reader.varint("framing indicator")
                switch indicator {
                case 1:
                    state = .knownLength
                    return nil
                case 3: break
                case 0, 2: throw .unexpectedMessageKind(expected: "response", framingIndicator: indicator)
                default: throw .invalidFramingIndicator(indicator)
                }
                var decoder = BinaryHTTPDecoder(continuing: reader, limits: limits, knownLength: false)
                while true {
                    let offset = decoder.reader.offset
                    let status = try decoder.reader.varint("status code")
                    let fields = try decoder.fieldSection(.header)
                    switch status {
                    case 100...199: continue
                    case 200...599:
                        consume(decoder.reader.offset)
                        state = .content
                        return .head(status: Int(status), headerFields: fields)
                    default: throw .invalidStatus(status, expected: 100...599, offset: offset)
                    }
                }
            case .content:
                let length = try reader.varint("content chunk length")
                if length == 0 {
                    consume(reader.offset)
                    state = .trailers
                    return try next()
                }
                guard UInt64(contentLength) + length <= UInt64(limits.maxContentLength) else {
                    throw .limitExceeded(
                        what: "content length", limit: limits.maxContentLength,
                        actual: UInt64(contentLength) + length, offset: 0)
                }
                let chunk = try reader.bytes(length, "content chunk")
                contentLength += chunk.count
                consume(reader.offset)
                return .content(chunk)
            case .trailers:
                var decoder = BinaryHTTPDecoder(continuing: reader, limits: limits, knownLength: false)
                let fields = try decoder.fieldSection(.trailer)
                consume(decoder.reader.offset)
                state = .done
                return .end(trailerFields: fields)
            }
        } catch .truncated {
            return nil
        }
    }

    private mutating func consume(_ count: Int) {
        buffer.removeFirst(count)
    }
}
