import EnclaveIPC
import Foundation

/// The `host:port` pairs egress may connect to.
///
/// File format, one entry per line:
///
///     # providers
///     api.openai.com:443           exact host and port
///     *.googleapis.com:443         any name ending in ".googleapis.com" (one or more labels in
///                                  front), on port 443; NOT googleapis.com itself; list that
///                                  separately if it is needed
///     [2001:db8::1]:443            IP literals are matched as written (IPv6 in brackets)
///
/// `#` starts a comment (whole line or after an entry); blank lines are ignored. Hosts are
/// matched case-insensitively; ports must match exactly (no port ranges, no `*` port), so an
/// entry never opens more than it says. Any other line is an error naming the line, so a typo
/// cannot silently shrink or widen the list.
public struct Allowlist: Hashable, Sendable {
    public struct Entry: Hashable, Sendable, CustomStringConvertible {
        public enum Host: Hashable, Sendable {
            /// A canonical host (lowercase name or IP literal) matched exactly.
            case exact(String)
            /// `*.suffix`: a name with at least one label before `.suffix`.
            case subdomains(of: String)
        }

        public let host: Host
        public let port: UInt16

        public var description: String {
            switch host {
            case .exact(let name): return name.contains(":") ? "[\(name)]:\(port)" : "\(name):\(port)"
            case .subdomains(let suffix): return "*.\(suffix):\(port)"
            }
        }
    }

    /// Lines longer than this are not entries anyone meant to write.
    static let maximumLineBytes = 1024
    /// Bounds the work of a lookup and of loading the file.
    static let maximumEntries = 10_000

    public let entries: [Entry]
    private let exact: Set<HostPort>
    private let wildcards: [Entry]

    public init(entries: [Entry]) {
        self.entries = entries
        var exact: Set<HostPort> = []
        var wildcards: [Entry] = []
        for entry in entries {
            switch entry.host {
            case .exact(let name): exact.insert(HostPort(host: name, port: entry.port))
            case .subdomains: wildcards.append(entry)
            }
        }
        self.exact = exact
        self.wildcards = wildcards
    }

    /// Parses the file format above.
    public init(parsing text: String) throws(AllowlistError) {
        var entries: [Entry] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            guard rawLine.utf8.count <= Self.maximumLineBytes else {
                throw .invalidLine(
                    lineNumber, String(rawLine.prefix(40)) + "…", reason: "longer than \(Self.maximumLineBytes) bytes")
            }
            let withoutComment =
                rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let line = withoutComment.trimmingWhitespace()
            guard !line.isEmpty else { continue }
            guard entries.count < Self.maximumEntries else { throw .tooManyEntries(maximum: Self.maximumEntries) }
            entries.append(try Self.parseEntry(line, lineNumber: lineNumber))
        }
        self.init(entries: entries)
    }

    /// True when `host` (canonical: lowercase name or IP literal, as `Endpoint` produces) may be
    /// reached on `port`.
    public func allows(host: String, port: UInt16) -> Bool {
        if exact.contains(HostPort(host: host, port: port)) { return true }
        return wildcards.contains { entry in
            guard entry.port == port, case .subdomains(let suffix) = entry.host else { return false }
            // "*.example.com" matches "a.example.com" and "a.b.example.com"; the dot before the
            // suffix guarantees at least one whole label, so "example.com" and
            // "badexample.com" do not match.
            return host.count > suffix.count + 1 && host.hasSuffix("." + suffix)
        }
    }

    private static func parseEntry(_ line: String, lineNumber: Int) throws(AllowlistError) -> Entry {
        let isWildcard = line.hasPrefix("*.")
        let rest = isWildcard ? String(line.dropFirst(2)) : line
        if rest.contains("*") {
            throw .invalidLine(lineNumber, line, reason: "'*' is only allowed as a leading '*.' label")
        }
        let endpoint: Endpoint
        do {
            endpoint = try Endpoint(parsing: "tcp://" + rest)
        } catch {
            throw .invalidLine(lineNumber, line, reason: "expected HOST:PORT (\(error))")
        }
        guard case .tcp(let host, let port) = endpoint.address else {
            throw .invalidLine(lineNumber, line, reason: "expected HOST:PORT")
        }
        guard port != 0 else { throw .invalidLine(lineNumber, line, reason: "port 0 is not a port anyone listens on") }
        if isWildcard {
            guard !host.contains(":"), host.contains(where: { $0.isLetter || $0 == "-" }) else {
                throw .invalidLine(lineNumber, line, reason: "'*.' must be followed by a DNS name, not an IP address")
            }
            return Entry(host: .subdomains(of: host), port: port)
        }
        return Entry(host: .exact(host), port: port)
    }
}

/// Why an allowlist could not be loaded.
public enum AllowlistError: Error, Hashable, Sendable, CustomStringConvertible {
    case invalidLine(Int, String, reason: String)
    case tooManyEntries(maximum: Int)
    case unreadable(path: String, reason: String)

    public var description: String {
        switch self {
        case .invalidLine(let number, let text, let reason):
            return "allowlist line \(number) '\(text)' is invalid: \(reason)"
        case .tooManyEntries(let maximum):
            return "allowlist has more than \(maximum) entries"
        case .unreadable(let path, let reason):
            return "cannot read allowlist \(path): \(reason)"
        }
    }
}

private struct HostPort: Hashable, Sendable {
    let host: String
    let port: UInt16
}

extension Substring {
    fileprivate func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}

extension Allowlist {
    /// A larger file is not an allowlist.
    static let maximumFileBytes = 1 << 20

    /// Loads and parses the allowlist file at `path`.
    public static func load(path: String) throws(AllowlistError) -> Allowlist {
        let data: Data
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            if let size = attributes[.size] as? Int, size > maximumFileBytes {
                throw AllowlistError.unreadable(
                    path: path, reason: "it is \(size) bytes; the limit is \(maximumFileBytes)")
            }
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch let error as AllowlistError {
            throw error
        } catch {
            throw .unreadable(path: path, reason: "\(error.localizedDescription)")
        }
        guard data.count <= maximumFileBytes else {
            throw .unreadable(path: path, reason: "it is larger than \(maximumFileBytes) bytes")
        }
        guard let text = String(bytes: data, encoding: .utf8) else {
            throw .unreadable(path: path, reason: "it is not UTF-8 text")
        }
        return try Allowlist(parsing: text)
    }
}
