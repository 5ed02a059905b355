/// An HTTP/1.1 request line and header fields, parsed strictly. The host proxy only speaks
/// HTTP for CONNECT (egress) and `GET /metrics`, so anything unusual is rejected rather than
/// interpreted: a lenient parser in front of an allowlist is how request smuggling starts.
struct RequestHead: Sendable {
    var method: String
    var target: String
    var version: String
    var headers: [(name: String, value: String)]
}

/// Why a request head was rejected; all of them answer 400 (or 405 for `methodNotAllowed`).
enum RequestHeadError: Error, Hashable, Sendable, CustomStringConvertible {
    case tooLarge(limit: Int)
    case tooManyHeaders(limit: Int)
    case nonASCII(offset: Int)
    case bareLineBreak(offset: Int)
    /// Carries the line's length only: a mistaken plain request could hold a secret in its URL.
    case malformedRequestLine(length: Int)
    case unsupportedVersion(String)
    case malformedHeader(line: Int)
    case incomplete
    case timedOut

    var description: String {
        switch self {
        case .tooLarge(let limit):
            return "request head is larger than \(limit) bytes"
        case .tooManyHeaders(let limit):
            return "request has more than \(limit) header fields"
        case .nonASCII(let offset):
            return "request head has a control or non-ASCII byte at offset \(offset)"
        case .bareLineBreak(let offset):
            return "request head has a CR or LF that is not part of a CRLF pair at offset \(offset)"
        case .malformedRequestLine(let length):
            return "the request line (\(length) bytes) is not 'METHOD SP TARGET SP HTTP/1.1'"
        case .unsupportedVersion(let version):
            return "HTTP version '\(version.prefix(16))' is not supported; expected HTTP/1.1 or HTTP/1.0"
        case .malformedHeader(let line):
            return "header field \(line) is not 'name: value' with a token name"
        case .incomplete:
            return "the connection closed before the request head ended"
        case .timedOut:
            return "the request head did not arrive in time"
        }
    }
}

enum RequestHeadParser {
    static let defaultMaximumBytes = 8 * 1024
    static let defaultMaximumHeaders = 64

    /// The offset just past the blank line ending the head in `bytes`, or nil if it has not
    /// arrived yet.
    static func endOfHead(in bytes: some Collection<UInt8>) -> Int? {
        var state = 0  // how much of "\r\n\r\n" has been matched
        for (offset, byte) in bytes.enumerated() {
            switch (state, byte) {
            case (0, 0x0D), (2, 0x0D): state += 1
            case (1, 0x0A), (3, 0x0A): state += 1
            case (_, 0x0D): state = 1
            default: state = 0
            }
            if state == 4 { return offset + 1 }
        }
        return nil
    }

    /// Parses a complete head: request line, header lines, blank line. The caller bounds its
    /// size (see `RequestHeadReader`).
    static func parse(
        _ bytes: [UInt8],
        maximumHeaders: Int = defaultMaximumHeaders
    ) throws(RequestHeadError) -> RequestHead {
        for (offset, byte) in bytes.enumerated() {
            // Visible ASCII, space, tab, CR and LF only.
            guard (0x20...0x7E).contains(byte) || byte == 0x09 || byte == 0x0D || byte == 0x0A else {
                throw .nonASCII(offset: offset)
            }
            if byte == 0x0A && (offset == 0 || bytes[offset - 1] != 0x0D) {
                throw .bareLineBreak(offset: offset)
            }
            if byte == 0x0D && (offset + 1 == bytes.count || bytes[offset + 1] != 0x0A) {
                throw .bareLineBreak(offset: offset)
            }
        }
        guard bytes.count >= 4, bytes.suffix(4).elementsEqual([0x0D, 0x0A, 0x0D, 0x0A]) else { throw .incomplete }
        // Every CR is now part of a CRLF, which Swift treats as one Character.
        let text = String(decoding: bytes.dropLast(4), as: UTF8.self)
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: false)
        let requestLine = String(lines.removeFirst())
        let parts = requestLine.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }), isToken(parts[0]) else {
            throw .malformedRequestLine(length: requestLine.utf8.count)
        }
        let version = String(parts[2])
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else { throw .unsupportedVersion(version) }
        guard lines.count <= maximumHeaders else { throw .tooManyHeaders(limit: maximumHeaders) }
        var headers: [(name: String, value: String)] = []
        for (index, line) in lines.enumerated() {
            guard let colon = line.firstIndex(of: ":") else { throw .malformedHeader(line: index + 1) }
            let name = line[..<colon]
            guard isToken(name) else { throw .malformedHeader(line: index + 1) }
            let value = line[line.index(after: colon)...].trimmingSpaceAndTab()
            headers.append((String(name), value))
        }
        return RequestHead(method: String(parts[0]), target: String(parts[1]), version: version, headers: headers)
    }

    /// RFC 9110 `token`: visible ASCII except delimiters.
    private static func isToken(_ text: Substring) -> Bool {
        !text.isEmpty
            && text.utf8.allSatisfy { byte in
                (0x21...0x7E).contains(byte) && !"\"(),/:;<=>?@[\\]{}".utf8.contains(byte)
            }
    }
}

extension Substring {
    fileprivate func trimmingSpaceAndTab() -> String {
        let trimmed = drop(while: { $0 == " " || $0 == "\t" })
        var end = trimmed.endIndex
        while end > trimmed.startIndex, let last = trimmed[..<end].last, last == " " || last == "\t" {
            end = trimmed.index(before: end)
        }
        return String(trimmed[..<end])
    }
}
