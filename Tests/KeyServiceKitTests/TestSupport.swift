import Attestation
import Crypto
import EnclaveIPC
import Foundation
import GatewayCore
import Logging
import OHTTP
import Testing

@testable import KeyServiceKit

let quietLogger = Logger(label: "key-service-tests") { _ in SwiftLogNoOpLogHandler() }

/// The fixed clock of every test key service, so timestamps are predictable.
let testNow: UInt64 = 1_764_000_000

/// A key service with the simulated NSM, a pinned clock and (optionally) an operator key.
func makeKeyService(
    operatorKey: Curve25519.Signing.PrivateKey? = nil,
    initialSecrets: [String: String] = [:],
    signer: SignerBackend = .openSSL
) throws -> KeyService {
    let nsm = try SimulatedNSM(authority: try DevCertificateAuthority())
    return try KeyService(
        configuration: KeyService.Configuration(
            nsm: nsm,
            teeEnabled: false,
            operatorKey: operatorKey.map { OperatorKey($0.publicKey) },
            initialSecrets: initialSecrets,
            clock: { testNow },
            signer: signer
        ),
        logger: quietLogger
    )
}

/// The OHTTP `KeyConfig` of the key service's X25519 config (what an operator seals to).
func x25519Config(of service: KeyService) async throws -> KeyConfig {
    let configs = try await service.ohttpConfigs()
    let wire = try #require(configs.first { $0.kemID == HPKEKEM.x25519HKDFSHA256.rawValue })
    return try KeyConfig(decoding: wire.keyConfig)
}

/// Runs `body` and returns the key-service error code it threw, or nil if it did not throw one.
func errorCode<T>(_ body: () async throws(KeyServiceError) -> T) async -> KeyServiceError.Code? {
    do {
        _ = try await body()
        return nil
    } catch {
        return error.code
    }
}

/// A fresh short directory under /tmp (socket paths must fit sun_path), removed after `body`.
func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let path = "/tmp/ks-test-" + UUID().uuidString.prefix(8)
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}
