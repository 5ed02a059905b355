/// Checks this tool adds around the library's own reports (tee_id, OHTTP configs, response
/// hashes), printed in the same ✓/✗/– form as `VerificationReport.renderedText()`.
struct CheckList: Encodable {
    enum Outcome: Equatable {
        case passed(String)
        case failed(String)
        case skipped(String)
    }

    struct Entry: Encodable {
        let name: String
        let outcome: Outcome

        private enum Keys: String, CodingKey { case check, status, detail }

        /// The library's check shape: `{"check", "status": passed|failed|skipped, "detail"}`.
        func encode(to encoder: any Encoder) throws {
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

    private(set) var entries: [Entry] = []

    mutating func record(_ name: String, _ outcome: Outcome) { entries.append(Entry(name: name, outcome: outcome)) }

    /// Records passed when `expected == actual`, else failed naming both values.
    mutating func compare(_ name: String, expected: String, actual: String, passed detail: String) {
        record(name, expected == actual ? .passed(detail) : .failed("\(name) mismatch: expected \(expected) got \(actual)"))
    }

    var hasFailures: Bool { entries.contains { if case .failed = $0.outcome { true } else { false } } }

    var renderedLines: [String] {
        entries.map { entry in
            switch entry.outcome {
            case .passed(let detail): "✓ \(entry.name): \(detail)"
            case .failed(let detail): "✗ \(entry.name): \(detail)"
            case .skipped(let reason): "– \(entry.name): skipped (\(reason))"
            }
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(entries)
    }
}
