import Foundation
import GatewayCore
import NIOCore
import Testing

@testable import EnclaveIPC

@Suite("Peer credentials and policy")
struct PeerPolicyTests {
    private func withUnixServer<T: Sendable>(
        policy: PeerPolicy,
        _ body: @Sendable (KeyServiceClient) async throws -> T
    ) async throws -> T {
        try await withTemporaryDirectory { directory in
            try await withServer(try Endpoint.unix(path: directory + "/ks.sock"), handler: EchoHandler(teeID: try makeTEEID(8)), policy: policy) { server in
                let keys = KeyServiceClient(endpoint: server.endpoint, logger: quietLogger)
                return try await withRunningClient(keys, body)
            }
        }
    }

    @Test("SO_PEERCRED reports this process's pid, uid and gid on an accepted Unix connection")
    func peerCredentials() async throws {
        try await withTemporaryDirectory { directory in
            let listener = try await Endpoint.unix(path: directory + "/cred.sock").bind { channel in
                channel.eventLoop.makeSucceededFuture(PeerIdentity.of(channel))
            }
            try await listener.channel.executeThenClose { accepted in
                let client = try await rawByteConnection(to: listener.endpoint)
                var peers = accepted.makeAsyncIterator()
                let peer = try await peers.next()
                #expect(peer == .credentials(PeerCredentials(pid: getpid(), uid: getuid(), gid: getgid())))
                try await client.executeThenClose { _, _ in }
            }
        }
    }

    @Test("TCP peers are unidentified")
    func tcpPeerIsUnidentified() async throws {
        let listener = try await Endpoint(parsing: "tcp://127.0.0.1:0").bind { channel in
            channel.eventLoop.makeSucceededFuture(PeerIdentity.of(channel))
        }
        try await listener.channel.executeThenClose { accepted in
            let client = try await rawByteConnection(to: listener.endpoint)
            var peers = accepted.makeAsyncIterator()
            let peer = try #require(try await peers.next())
            guard case .unidentified(let reason) = peer else {
                Issue.record("a TCP peer was identified: \(peer)")
                return
            }
            #expect(reason.contains("127.0.0.1"))
            try await client.executeThenClose { _, _ in }
        }
    }

    @Test("a uid missing from the policy is refused with a typed error naming it")
    func unknownUIDRefused() async throws {
        let someoneElse = PeerPolicy(classesByUID: [getuid() &+ 1000: Set(PeerClass.allCases)])
        let result = try await withUnixServer(policy: someoneElse) { keys in
            await outcome { () async throws(KeyServiceClientError) in try await keys.publicKey() }
        }
        guard case .failure(.server(let refusal)) = result else {
            Issue.record("expected a refusal, got \(result)")
            return
        }
        #expect(refusal.code == .forbidden)
        #expect(refusal.message.contains("uid \(getuid())"))
        #expect(refusal.message.contains("pid \(getpid())"))
    }

    @Test("a worker may sign but may not act as tls-front")
    func workerClass() async throws {
        let workers = PeerPolicy(classesByUID: [getuid(): [.worker]])
        try await withUnixServer(policy: workers) { keys in
            let signature = try await keys.signInference(requestHash: try digest(1), outputHash: try digest(0))
            #expect(signature.signature == (try digest(1)).bytes + (try digest(0)).bytes)
            let secrets = try await keys.providerSecrets()
            #expect(!secrets.apiKeys.isEmpty)

            let certificateHash = try digest(2).bytes
            let nonce = try AttestationNonce(randomBytes(20))
            let refusals = [
                await outcome { () async throws(KeyServiceClientError) in try await keys.registerTLSCertificate(sha256: certificateHash) },
                await outcome { () async throws(KeyServiceClientError) in _ = try await keys.attest(nonce: nonce) },
                await outcome { () async throws(KeyServiceClientError) in _ = try await keys.injectSecrets(envelope: [1]) },
            ]
            for result in refusals {
                guard case .failure(.server(let refusal)) = result else {
                    Issue.record("a worker was allowed a tls-front operation: \(result)")
                    continue
                }
                #expect(refusal.code == .forbidden)
                #expect(refusal.message.contains("classes: worker"))
                #expect(refusal.message.contains("tlsFront"))
            }
        }
    }

    @Test("tls-front may register its certificate but may not sign or open OHTTP")
    func tlsFrontClass() async throws {
        let front = PeerPolicy(classesByUID: [getuid(): [.tlsFront]])
        try await withUnixServer(policy: front) { keys in
            try await keys.registerTLSCertificate(sha256: try digest(2).bytes)
            let key = try await keys.publicKey()
            #expect(key.teeID == (try makeTEEID(8)))
            let hash = try digest(1)
            let signResult = await outcome { () async throws(KeyServiceClientError) in
                try await keys.signInference(requestHash: hash, outputHash: hash)
            }
            #expect(signResult.errorCode == .forbidden)
            let openResult = await outcome { () async throws(KeyServiceClientError) in
                try await keys.ohttpOpen(encapsulatedRequest: [1, 2])
            }
            #expect(openResult.errorCode == .forbidden)
        }
    }

    @Test("TCP peers are refused unless the policy grants unidentified peers a class")
    func tcpPolicy() async throws {
        let unixOnly = PeerPolicy(classesByUID: [getuid(): Set(PeerClass.allCases)])
        let endpoint = try Endpoint(parsing: "tcp://127.0.0.1:0")
        try await withServer(endpoint, handler: EchoHandler(teeID: try makeTEEID(9)), policy: unixOnly) { server in
            try await withRunningClient(KeyServiceClient(endpoint: server.endpoint, logger: quietLogger)) { keys in
                let result = await outcome { () async throws(KeyServiceClientError) in try await keys.ready() }
                #expect(result.errorCode == .forbidden)
            }
        }
        let devLoopback = PeerPolicy(classesByUID: [:], unidentifiedPeerClasses: [.supervisor])
        try await withServer(endpoint, handler: EchoHandler(teeID: try makeTEEID(9)), policy: devLoopback) { server in
            try await withRunningClient(KeyServiceClient(endpoint: server.endpoint, logger: quietLogger)) { keys in
                let ready = try await keys.ready()
                #expect(ready)
                let keyResult = await outcome { () async throws(KeyServiceClientError) in try await keys.publicKey() }
                #expect(keyResult.errorCode == .forbidden)
            }
        }
    }

    @Test("the operation table keeps signing, OHTTP and secrets with workers and tls-front duties with tls-front")
    func operationTable() {
        for operation in KeyServiceOperation.allCases {
            #expect(!PeerPolicy.classes(allowedFor: operation).isEmpty, "\(operation) is reachable by no class")
        }
        for operation in [KeyServiceOperation.signInference, .signRecord, .ohttpOpen, .providerSecrets] {
            #expect(PeerPolicy.classes(allowedFor: operation) == [.worker], "\(operation)")
        }
        for operation in [KeyServiceOperation.registerTLSCertificate, .attest, .injectSecrets] {
            #expect(PeerPolicy.classes(allowedFor: operation) == [.tlsFront], "\(operation)")
        }
        #expect(PeerPolicy.classes(allowedFor: .ready).contains(.supervisor))
        #expect(!PeerPolicy.classes(allowedFor: .publicKey).contains(.supervisor))
    }
}

extension Result where Failure == KeyServiceClientError {
    /// The key service's error code, if the call was refused by it.
    var errorCode: KeyServiceError.Code? {
        guard case .failure(.server(let error)) = self else { return nil }
        return error.code
    }
}
