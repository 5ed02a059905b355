import Foundation
import GatewayClient
import GatewayCore
import Logging

/// The last verified attestation per gateway, kept in a `SealedFile`: the pinned TLS
/// certificate hash, signing key (`tee_id`), OHTTP key configs and when they were verified.
///
/// It is a record, not a trust shortcut: every start attests afresh. It tells the operator (and
/// `status`) which enclave answered last, and lets the proxy say "the enclave changed" across
/// restarts. A cache written under another `CLIENT_KEK`, or damaged, is ignored with a warning
/// and replaced by the next verified attestation.
public struct AttestationCache: Sendable {
    public struct Record: Codable, Sendable, Equatable {
        public var gateway: String
        public var teeID: String
        public var signingKeySPKI: String
        public var certificateSHA256: String
        public var ohttpKeyConfigs: String?
        public var attested: Bool
        public var verifiedAt: Date

        public init(
            gateway: String, teeID: String, signingKeySPKI: String, certificateSHA256: String, ohttpKeyConfigs: String?, attested: Bool,
            verifiedAt: Date
        ) {
            self.gateway = gateway
            self.teeID = teeID
            self.signingKeySPKI = signingKeySPKI
            self.certificateSHA256 = certificateSHA256
            self.ohttpKeyConfigs = ohttpKeyConfigs
            self.attested = attested
            self.verifiedAt = verifiedAt
        }

        enum CodingKeys: String, CodingKey {
            case gateway, attested
            case teeID = "tee_id"
            case signingKeySPKI = "signing_key_spki"
            case certificateSHA256 = "certificate_sha256"
            case ohttpKeyConfigs = "ohttp_key_configs"
            case verifiedAt = "verified_at"
        }
    }

    public let file: SealedFile

    public init(file: SealedFile) { self.file = file }

    /// All records, or [] with a warning when the file cannot be trusted.
    public func load(logger: Logger) -> [Record] {
        switch file.read() {
        case nil: return []
        case .failure(let reason)?:
            logger.warning(
                "ignoring the attestation cache: \(reason)", metadata: ["file": "\(file.url.path)"])
            return []
        case .success(let plaintext)?:
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            guard let records = try? decoder.decode([Record].self, from: Data(plaintext)) else {
                logger.warning("ignoring the attestation cache: it decrypts but is not a list of records", metadata: ["file": "\(file.url.path)"])
                return []
            }
            return records
        }
    }

    /// Replaces this gateway's record with `attestation`; a write failure is logged, not fatal.
    public func store(_ attestation: GatewayAttestation, attested: Bool = true, logger: Logger) {
        let record = Record(
            gateway: attestation.endpoint.description, teeID: attestation.signingKey.teeID.description,
            signingKeySPKI: Hex.encode(attestation.signingKey.spkiDER),
            certificateSHA256: Hex.encode(Array(attestation.pinnedSHA256)),
            ohttpKeyConfigs: attestation.evidence.ohttpKeyConfigs.map { Hex.encode($0) }, attested: attested, verifiedAt: Date())
        store(record, logger: logger)
    }

    public func store(_ record: Record, logger: Logger) {
        var records = load(logger: Logger(label: "quiet", factory: { _ in SwiftLogNoOpLogHandler() }))
        if let previous = records.first(where: { $0.gateway == record.gateway }), previous.teeID != record.teeID {
            logger.notice(
                "the enclave changed since it was last verified",
                metadata: ["previous_tee_id": "\(previous.teeID)", "tee_id": "\(record.teeID)", "previous_verified_at": "\(previous.verifiedAt)"])
        }
        records.removeAll { $0.gateway == record.gateway }
        records.append(record)
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        do { try file.write(Array(try encoder.encode(records))) } catch {
            logger.warning("cannot write the attestation cache: \(error)", metadata: ["file": "\(file.url.path)"])
        }
    }
}

extension GatewayAttestation {
    /// SHA-256 of the attested TLS certificate (what the pinned policy requires).
    var pinnedSHA256: [UInt8] {
        if case .pinned(let digest) = pinnedPolicy { return digest }
        return []
    }
}
