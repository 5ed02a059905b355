import EnclaveIPC
import Foundation
import GatewayCore
import OHTTP

/// What a worker learns from key-service at boot and serves unchanged until it exits: the
/// public signing key, its `tee_id` and the signed OHTTP key configs. None of it is secret; the
/// private keys stay in key-service.
public struct SigningIdentity: Sendable {
    public let publicKey: InferenceVerifyingKey
    public let ohttp: OHTTPConfigDocument
    /// `application/ohttp-keys`: every config, in key-service's preference order.
    public let ohttpKeyConfigList: [UInt8]

    public var teeID: TEEID { publicKey.teeID }

    /// Fetches the public key and OHTTP configs and has key-service sign each config record.
    public static func fetch(from keyService: KeyServiceClient) async throws -> SigningIdentity {
        let info = try await keyService.publicKey()
        let publicKey = try InferenceVerifyingKey(spkiDER: info.spkiDER)
        guard publicKey.teeID == info.teeID else { throw SigningIdentityError.teeIDMismatch }
        var configs: [KeyConfig] = []
        var signed: [SignedOHTTPConfig] = []
        for wire in try await keyService.ohttpConfigs() {
            let config = try KeyConfig(decoding: wire.keyConfig)
            let record = try await keyService.signRecord(.ohttpConfig(wire))
            let signedConfig = try SignedOHTTPConfig(config: config, teeID: info.teeID.digest.bytes, signature: record.signature)
            guard signedConfig.configHash == record.messageHash else { throw SigningIdentityError.configHashMismatch(keyID: config.keyID) }
            configs.append(config)
            signed.append(signedConfig)
        }
        return SigningIdentity(
            publicKey: publicKey,
            ohttp: try OHTTPConfigDocument(configs: signed),
            ohttpKeyConfigList: KeyConfig.encodeList(configs)
        )
    }

    /// `GET /signing-key`: `{"public_key": PEM, "tee_id": "0x…", "ohttp": {…}}`, the OHTTP part in
    /// the `GET /v1/ohttp/config` shape.
    public func signingKeyBody() throws -> [UInt8] {
        let ohttpJSON = try JSONParser().parse(try ohttpConfigBody())
        return JSONWriter.serialize(
            ["public_key": .string(publicKey.pem), "tee_id": .string(teeID.description), "ohttp": ohttpJSON],
            style: .compact
        )
    }

    /// `GET /v1/ohttp/config`.
    public func ohttpConfigBody() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(ohttp))
    }
}

public enum SigningIdentityError: Error, Equatable, CustomStringConvertible {
    case teeIDMismatch
    case configHashMismatch(keyID: UInt8)

    public var description: String {
        switch self {
        case .teeIDMismatch: "key-service reported a tee_id that is not keccak of its public key"
        case .configHashMismatch(let keyID): "key-service signed a different hash for OHTTP config \(keyID) than the config's own"
        }
    }
}
