#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The one parser behind `Endpoint(parsing:)`, `Endpoint.unix(path:)` and `Endpoint.tcp(host:port:)`.
enum EndpointParser {
    /// Longer input cannot be a valid endpoint (DNS names stop at 253 bytes, socket paths at ~107).
    static let maximumLength = 512

    /// `sun_path` minus the terminating NUL: 107 on Linux, 103 on Darwin.
    static let maximumUnixPathBytes = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

    static func parse(_ text: String) throws(EndpointError) -> Endpoint {
        guard !text.isEmpty else { throw .empty }
        guard text.utf8.count <= maximumLength else {
            throw .tooLong(length: text.utf8.count, maximum: maximumLength)
        }
        guard let separator = text.firstRange(of: "://"), separator.lowerBound != text.startIndex else {
            throw .missingScheme(text)
        }
        let scheme = String(text[..<separator.lowerBound])
        let rest = String(text[separator.upperBound...])
        switch scheme.lowercased() {
        case "unix":
            try validateUnixPath(rest)
            return Endpoint(validated: .unix(path: rest))
        case "vsock":
            let (cidText, portText) = try splitHostPort(rest, in: text)
            guard !cidText.isEmpty else { throw .missingCID(text) }
            guard let cid = decimal(cidText) else { throw .invalidCID(cidText) }
            guard cid <= UInt64(UInt32.max) else { throw .cidOutOfRange(cidText) }
            let port = try parsePort(portText, maximum: UInt32.max, in: text)
            return .vsock(cid: UInt32(cid), port: port)
        case "tcp":
            let (hostText, portText): (String, String)
            if rest.hasPrefix("[") {
                guard let close = rest.firstIndex(of: "]") else {
                    throw .invalidHost(rest, reason: "'[' opens an IPv6 address but no ']' closes it")
                }
                hostText = String(rest[rest.index(after: rest.startIndex)..<close])
                let afterHost = rest[rest.index(after: close)...]
                guard afterHost.first == ":" else {
                    if afterHost.isEmpty { throw .missingPort(text) }
                    throw .invalidHost(rest, reason: "expected ':' after the closing ']'")
                }
                portText = String(afterHost.dropFirst())
                try rejectPath(portText, in: text)
                guard hostText.contains(":") else {
                    throw .invalidHost(hostText, reason: "brackets are only for IPv6 addresses")
                }
            } else {
                (hostText, portText) = try splitHostPort(rest, in: text)
                guard !hostText.contains(":") else {
                    throw .invalidHost(hostText, reason: "write IPv6 addresses in brackets: tcp://[::1]:PORT")
                }
            }
            guard !hostText.isEmpty else { throw .missingHost(text) }
            let port = try parsePort(portText, maximum: UInt32(UInt16.max), in: text)
            return Endpoint(validated: .tcp(host: try canonicalHost(hostText), port: UInt16(port)))
        default:
            throw .unknownScheme(scheme)
        }
    }

    static func validateUnixPath(_ path: String) throws(EndpointError) {
        guard path.hasPrefix("/") else { throw .relativeUnixPath(path) }
        guard !path.utf8.contains(0) else { throw .invalidUnixPath(path, reason: "it contains a NUL byte") }
        guard path.count > 1, !path.hasSuffix("/") else {
            throw .invalidUnixPath(path, reason: "it names a directory; add the socket file name")
        }
        let bytes = path.utf8.count
        guard bytes <= maximumUnixPathBytes else {
            throw .unixPathTooLong(path, bytes: bytes, maximum: maximumUnixPathBytes)
        }
    }

    /// Returns the host in the form `Endpoint.Address.tcp` stores: canonical IPv6 text, a
    /// dotted-quad IPv4 address, or a lowercase DNS name.
    static func canonicalHost(_ host: String) throws(EndpointError) -> String {
        guard !host.isEmpty else { throw .invalidHost(host, reason: "it is empty") }
        if host.contains(":") { return try canonicalIPv6(host) }
        if host.allSatisfy({ $0 == "." || $0.isASCII && $0.isNumber }) { return try validIPv4(host) }
        return try validHostname(host)
    }

    // MARK: - Pieces

    /// Splits `HOST:PORT` at the last colon (IPv6 is handled by the caller).
    private static func splitHostPort(_ rest: String, in text: String) throws(EndpointError) -> (String, String) {
        guard let colon = rest.lastIndex(of: ":") else {
            if rest.contains("/") { throw .unexpectedPath(text) }
            throw .missingPort(text)
        }
        let portText = String(rest[rest.index(after: colon)...])
        try rejectPath(portText, in: text)
        return (String(rest[..<colon]), portText)
    }

    private static func rejectPath(_ portText: String, in text: String) throws(EndpointError) {
        if portText.contains(where: { $0 == "/" || $0 == "?" || $0 == "#" }) { throw .unexpectedPath(text) }
    }

    private static func parsePort(_ text: String, maximum: UInt32, in input: String) throws(EndpointError) -> UInt32 {
        guard !text.isEmpty else { throw .missingPort(input) }
        guard let value = decimal(text) else { throw .invalidPort(text) }
        guard value <= UInt64(maximum) else { throw .portOutOfRange(text, maximum: maximum) }
        return UInt32(value)
    }

    /// Plain decimal digits, no sign, no leading zeros (so "010" can't be mistaken for octal).
    /// Values beyond UInt64 saturate, which every caller rejects as out of range.
    private static func decimal(_ text: String) -> UInt64? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        guard text == "0" || !text.hasPrefix("0") else { return nil }
        return UInt64(text) ?? UInt64.max
    }

    private static func validIPv4(_ host: String) throws(EndpointError) -> String {
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else {
            throw .invalidHost(host, reason: "an IPv4 address has 4 dot-separated numbers, found \(parts.count)")
        }
        for part in parts {
            guard let value = decimal(String(part)), value <= 255 else {
                throw .invalidHost(host, reason: "'\(part)' is not a number from 0 to 255 without leading zeros")
            }
        }
        return host
    }

    private static func canonicalIPv6(_ host: String) throws(EndpointError) -> String {
        guard !host.contains("%") else {
            throw .invalidHost(host, reason: "IPv6 zone identifiers are not supported")
        }
        var address = in6_addr()
        guard inet_pton(AF_INET6, host, &address) == 1 else {
            throw .invalidHost(host, reason: "it is not a valid IPv6 address")
        }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count)) != nil else {
            throw .invalidHost(host, reason: "it could not be formatted as an IPv6 address")
        }
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func validHostname(_ host: String) throws(EndpointError) -> String {
        let name = host.lowercased()
        guard name.utf8.count <= 253 else {
            throw .invalidHost(host, reason: "a DNS name has at most 253 bytes, this one has \(name.utf8.count)")
        }
        for label in name.split(separator: ".", omittingEmptySubsequences: false) {
            guard (1...63).contains(label.utf8.count) else {
                throw .invalidHost(host, reason: "each dot-separated label must be 1 to 63 characters")
            }
            guard label.utf8.allSatisfy({ isHostnameByte($0) }), label.first != "-", label.last != "-" else {
                throw .invalidHost(host, reason: "label '\(label)' may only hold a-z, 0-9 and inner '-'")
            }
        }
        return name
    }

    private static func isHostnameByte(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2D
    }
}
