import GatewayCore
import Foundation

/// The outcome of verifying one attestation document: every check with its status, plus what
/// the document says (module, time, PCRs) so a CLI can print it as text or JSON.
public struct VerificationReport: Sendable, Equatable {
    public internal(set) var results: [CheckResult] = []
    public internal(set) var moduleID: String?
    /// The document's timestamp in milliseconds since the epoch.
    public internal(set) var timestamp: UInt64?
    /// The time certificate validity was evaluated at.
    public internal(set) var verificationTime: Date?
    public internal(set) var pcrs: [Int: [UInt8]] = [:]

    /// True only when nothing failed and the signature and chain actually passed.
    public var isValid: Bool {
        failures.isEmpty
            && [VerificationCheck.signature, .chain].allSatisfy { check in
                if case .passed = status(of: check) { true } else { false }
            }
    }

    public var failures: [VerificationFailure] {
        results.compactMap { if case .failed(let failure) = $0.status { failure } else { nil } }
    }

    public func status(of check: VerificationCheck) -> CheckStatus? {
        results.first { $0.check == check }?.status
    }

    mutating func record(_ check: VerificationCheck, _ status: CheckStatus) {
        results.append(CheckResult(check: check, status: status))
    }

    /// A human-readable report: what was attested, then one ✓/✗/– line per check.
    public func renderedText() -> String {
        var lines = ["attestation: " + (isValid ? "VALID ✓" : "INVALID ✗")]
        if let moduleID { lines.append("module:      \(moduleID)") }
        if let timestamp {
            let date = Date(timeIntervalSince1970: Double(timestamp) / 1000)
            lines.append("timestamp:   \(date.iso8601) (\(timestamp) ms)")
        }
        if let verificationTime { lines.append("verified at: \(verificationTime.iso8601)") }
        for (index, value) in displayedPCRs { lines.append("PCR\(index):\(index < 10 ? " " : "") \(Hex.encode(value))") }
        for result in results {
            let name = result.check.description
            switch result.status {
            case .passed(let detail): lines.append("✓ \(name): \(detail)")
            case .failed(let failure): lines.append("✗ \(name): \(failure)")
            case .skipped(let reason): lines.append("– \(name): skipped (\(reason))")
            }
        }
        return lines.joined(separator: "\n")
    }

    /// PCR0-2 always (zero values matter: they mean debug mode), others only when non-zero.
    private var displayedPCRs: [(Int, [UInt8])] {
        pcrs.keys.sorted().compactMap { index in
            guard let value = pcrs[index], index <= 2 || value.contains(where: { $0 != 0 }) else { return nil }
            return (index, value)
        }
    }
}

extension VerificationReport: Encodable {
    private enum Keys: String, CodingKey {
        case valid
        case moduleID = "module_id"
        case timestamp
        case timestampMS = "timestamp_ms"
        case verifiedAt = "verified_at"
        case pcrs, checks
    }

    private struct EncodedCheck: Encodable {
        var check: String
        var status: String
        var detail: String
    }

    /// `{"valid", "module_id", "timestamp", "timestamp_ms", "verified_at", "pcrs": {"0": hex},
    /// "checks": [{"check", "status": passed|failed|skipped, "detail"}]}`; times are ISO 8601.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(isValid, forKey: .valid)
        try container.encodeIfPresent(moduleID, forKey: .moduleID)
        if let timestamp {
            try container.encode(timestamp, forKey: .timestampMS)
            let date = Date(timeIntervalSince1970: Double(timestamp) / 1000)
            try container.encode(date.iso8601, forKey: .timestamp)
        }
        try container.encodeIfPresent(verificationTime?.iso8601, forKey: .verifiedAt)
        let pcrHex = Dictionary(uniqueKeysWithValues: pcrs.map { ("\($0.key)", Hex.encode($0.value)) })
        try container.encode(pcrHex, forKey: .pcrs)
        let checks = results.map { result in
            switch result.status {
            case .passed(let detail): EncodedCheck(check: result.check.description, status: "passed", detail: detail)
            case .failed(let failure):
                EncodedCheck(check: result.check.description, status: "failed", detail: "\(failure)")
            case .skipped(let reason): EncodedCheck(check: result.check.description, status: "skipped", detail: reason)
            }
        }
        try container.encode(checks, forKey: .checks)
    }
}
