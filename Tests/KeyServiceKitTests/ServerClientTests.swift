import EnclaveIPC
import Foundation
import GatewayCore
import Testing

@testable import KeyServiceKit

@Suite("KeyService over the IPC socket")
struct ServerClientTests {
    /// Serves `service` on a fresh unix socket with `policy` and runs `body` with a connected client.
    func withServedKeyService<T: Sendable>(
        _ service: KeyService,
        policy: PeerPolicy,
        _ body: @escaping @Sendable (KeyServiceClient) async throws -> T
    ) async throws -> T {
        try await withTemporaryDirectory { directory in
            let endpoint = try Endpoint.unix(path: directory + "/key.sock")
            let server = try await KeyServiceServer(bindingTo: endpoint, handler: service, policy: policy, logger: quietLogger)
            let client = KeyServiceClient(endpoint: endpoint, logger: quietLogger)
            return try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask { try await server.run(); return nil }
                group.addTask { try await client.run(); return nil }
                let result = try await body(client)
                group.cancelAll()
                while let next = try? await group.next() { _ = next }
                return result
            }
        }
    }

    @Test("a worker-class peer gets a verifiable signature; tls-front operations are refused to it")
    func workerPeer() async throws {
        let service = try makeKeyService()
        let policy = PeerPolicy(classesByUID: [getuid(): [.worker]])
        try await withServedKeyService(service, policy: policy) { keys in
            #expect(try await keys.ready())
            let info = try await keys.publicKey()
            let requestHash = OutputHash.text("req")
            let outputHash = OutputHash.text("out")
            let signature = try await keys.signInference(requestHash: requestHash, outputHash: outputHash)
            #expect(try InferenceVerifyingKey(spkiDER: info.spkiDER).verify(signature) == .valid)
            #expect(signature.teeID == info.teeID)
            #expect(try await keys.ohttpConfigs().count == 2)
            #expect(
                await refusal { () async throws(KeyServiceClientError) in
                    try await keys.registerTLSCertificate(sha256: Array(repeating: 1, count: 32))
                } == .forbidden
            )
        }
    }

    @Test("a peer whose uid the policy does not list is refused every operation, health and ready included")
    func disallowedPeer() async throws {
        let service = try makeKeyService()
        let policy = PeerPolicy(classesByUID: [getuid() &+ 1: [.worker, .tlsFront]])
        try await withServedKeyService(service, policy: policy) { keys in
            #expect(await refusal { () async throws(KeyServiceClientError) in try await keys.publicKey() } == .forbidden)
            #expect(await refusal { () async throws(KeyServiceClientError) in try await keys.providerSecrets() } == .forbidden)
            #expect(
                await refusal { () async throws(KeyServiceClientError) in
                    try await keys.signInference(requestHash: OutputHash.text("a"), outputHash: OutputHash.text("b"))
                } == .forbidden
            )
            #expect(await refusal { () async throws(KeyServiceClientError) in try await keys.ready() } == .forbidden)
        }
    }

    @Test("tls-front registers its certificate, then attests through the socket")
    func tlsFrontPeer() async throws {
        let service = try makeKeyService()
        let policy = PeerPolicy(classesByUID: [getuid(): [.tlsFront]])
        try await withServedKeyService(service, policy: policy) { keys in
            let nonce = try AttestationNonce(Array(repeating: 0xAB, count: 20))
            #expect(await refusal { () async throws(KeyServiceClientError) in try await keys.attest(nonce: nonce) } == .notReady)
            try await keys.registerTLSCertificate(sha256: Array(repeating: 0x5A, count: 32))
            #expect(try await keys.attest(nonce: nonce).count > 1000)
        }
    }
}

/// The code of the key service's refusal, or nil when `body` succeeded or failed otherwise.
func refusal<T>(_ body: () async throws(KeyServiceClientError) -> T) async -> KeyServiceError.Code? {
    do {
        _ = try await body()
        return nil
    } catch {
        if case .server(let refusal) = error { return refusal.code }
        return nil
    }
}
