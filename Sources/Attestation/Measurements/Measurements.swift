import GatewayCore
import Foundation

/// Expected PCR values of an enclave image, read from `measurements.txt` as `nitro-cli
/// build-enclave` (and `gatewayctl measure`) write it:
/// `{"Measurements":{"HashAlgorithm":"Sha384 { ... }","PCR0":"<96 hex>","PCR1":…,"PCR2":…}}`.
/// PCR8 (signing certificate) appears only for signed images and is checked only when present.
public struct Measurements: Sendable, Equatable {
    public static let requiredPCRs = [0, 1, 2]
    public static let optionalPCRs = [8]

    public var pcrs: [Int: [UInt8]]

    public init(pcrs: [Int: [UInt8]]) {
        self.pcrs = pcrs
    }

    public init(contentsOf url: URL) throws(MeasurementsError) {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw .unreadable(path: url.path, reason: "\(error)") }
        try self.init(json: data)
    }

    public init(json data: Data) throws(MeasurementsError) {
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw .notJSONObject }
        guard let fields = root["Measurements"] as? [String: Any] else { throw .missingField("Measurements") }
        guard let algorithm = fields["HashAlgorithm"] as? String else {
            throw .missingField("Measurements.HashAlgorithm")
        }
        guard algorithm.hasPrefix("Sha384") else { throw .unsupportedHashAlgorithm(algorithm) }

        var pcrs: [Int: [UInt8]] = [:]
        for index in Self.requiredPCRs + Self.optionalPCRs {
            let key = "PCR\(index)"
            guard let value = fields[key] else {
                if Self.requiredPCRs.contains(index) { throw .missingField("Measurements.\(key)") }
                continue
            }
            guard let hex = value as? String else { throw .notAString(key) }
            let bytes: [UInt8]
            do {
                bytes = try Hex.decode(hex)
            } catch {
                throw .badHex(pcr: key, reason: error.description)
            }
            guard bytes.count == 48 else { throw .wrongLength(pcr: key, bytes: bytes.count) }
            pcrs[index] = bytes
        }
        self.pcrs = pcrs
    }
}

public enum MeasurementsError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case notJSONObject
    case missingField(String)
    case unsupportedHashAlgorithm(String)
    case notAString(String)
    case badHex(pcr: String, reason: String)
    case wrongLength(pcr: String, bytes: Int)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "measurements: cannot read \(path): \(reason)"
        case .notJSONObject: "measurements: not a JSON object (expected {\"Measurements\": {...}})"
        case .missingField(let field): "measurements: \(field) is missing"
        case .unsupportedHashAlgorithm(let algorithm): "measurements: HashAlgorithm \"\(algorithm)\" is not Sha384"
        case .notAString(let pcr): "measurements: \(pcr) must be a hex string"
        case .badHex(let pcr, let reason): "measurements: \(pcr) is not hex: \(reason)"
        case .wrongLength(let pcr, let bytes):
            "measurements: \(pcr) is \(bytes) bytes, SHA-384 needs 48 (96 hex digits)"
        }
    }
}
