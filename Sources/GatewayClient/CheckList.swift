/// Named checks outside the attestation document (tee_id, OHTTP configs, signatures, response
/// hashes), printed in the same ✓/✗/– form as `VerificationReport.renderedText()`. A failed
/// entry's detail names the check and the expected and actual values.
public struct CheckList: Encodable, Sendable {
    public enum Outcome: Equatable, Sendable {
        case passed(String)
        case failed(String)
        case skipped(String)
    }

    public struct Entry: Encodable, Sendable {
        public let name: String
        public let outcome: Outcome

        private enum Keys: String, CodingKey { case check, status, detail }

        /// The library's check shape: `{"check", "status": passed|failed|skipped, "detail"}`.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(name, forKey: .check)
            switch outcome {
            case .passed(let detail):
                try container.encode("passed", forKey: .status)
                try container.encode(detail, forKey: .detail)
            case .failed(let detail):
                try container.encode("failed", forKey: .status)
                try container.encode(detail, forKey: .detail)
            case .skipped(let detail):
                try container.encode("skipped", forKey: .status)
                try container.encode(detail, forKey: .detail)
            }
        }
    }

    public private(set) var entries: [Entry] = []

    public init() {}

    public mutating func record(_ name: String, _ outcome: Outcome) { entries.append(Entry(name: name, outcome: outcome)) }

    /// Records passed when `expected == actual`, else failed naming both values.
    public mutating func compare(_ name: String, expected: String, actual: String, passed detail: String) {
        record(name, expected == actual ? .passed(detail) : .failed("\(name) mismatch: expected \(expected) got \(actual)"))
    }

    /// Appends every entry of `other`, in order.
    public mutating func append(contentsOf other: CheckList) { entries += other.entries }

    /// "name: detail" of each failed check.
    public var failures: [String] {
        entries.compactMap { if case .failed(let detail) = $0.outcome { "\($0.name): \(detail)" } else { nil } }
    }

    public var hasFailures: Bool { entries.contains { if case .failed = $0.outcome { true } else { false } } }

    public var renderedLines: [String] {
        entries.map { entry in
            switch entry.outcome {
            case .passed(let detail): "✓ \(entry.name): \(detail)"
            case .failed(let detail): "✗ \(entry.name): \(detail)"
            case .skipped(let reason): "– \(entry.name): skipped (\(reason))"
            }
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(entries)
    }
}
