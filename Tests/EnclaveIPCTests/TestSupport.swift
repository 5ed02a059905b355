import Foundation
import GatewayCore
import Logging
import NIOCore
import Synchronization

@testable import EnclaveIPC

/// A fresh directory under /tmp (short, so socket paths fit sun_path), removed after `body`.
@discardableResult
func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    var template = Array("/tmp/ipc-test-XXXXXX".utf8CString)
    let path = try template.withUnsafeMutableBufferPointer { buffer -> String in
        guard let base = buffer.baseAddress, mkdtemp(base) != nil else {
            throw POSIXError(.init(rawValue: errno) ?? .EIO)
        }
        return String(cString: base)
    }
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}

let quietLogger = Logger(label: "enclave-ipc-tests") { _ in SwiftLogNoOpLogHandler() }

struct WrongDigestLength: Error {}

func keccak(_ bytes: [UInt8]) throws -> Keccak256Digest {
    guard let digest = Keccak256Digest(bytes: bytes) else { throw WrongDigestLength() }
    return digest
}

func digest(_ fill: UInt8) throws -> Keccak256Digest {
    try keccak(Array(repeating: fill, count: 32))
}

func makeTEEID(_ fill: UInt8) throws -> TEEID {
    TEEID(digest: try digest(fill))
}

func randomBytes(_ count: Int) -> [UInt8] {
    (0..<count).map { _ in UInt8.random(in: 0...255) }
}

/// A key-service stand-in whose every answer is derived from the request, so a test can tell
/// that each response belongs to its own request.
struct EchoHandler: KeyServiceHandler {
    let teeID: TEEID
    /// How long `health()` takes; tests use it to hold a request in flight.
    var healthDelay: Duration = .zero
    let concurrency = ConcurrencyProbe()

    init(teeID: TEEID, healthDelay: Duration = .zero) {
        self.teeID = teeID
        self.healthDelay = healthDelay
    }

    func publicKey() async throws(KeyServiceError) -> PublicKeyInfo {
        PublicKeyInfo(spkiDER: teeID.digest.bytes + [0x30], pem: "PEM for \(teeID)", teeID: teeID)
    }

    /// Signature = requestHash ‖ outputHash; sleeps `outputHash[0]` ms so concurrent calls
    /// finish out of order.
    func signInference(requestHash: Keccak256Digest, outputHash: Keccak256Digest) async throws(KeyServiceError) -> TEESignature {
        await concurrency.enter()
        try? await Task.sleep(for: .milliseconds(Int(outputHash.bytes[0])))
        await concurrency.leave()
        return TEESignature(
            requestHash: requestHash,
            outputHash: outputHash,
            timestamp: UInt64(requestHash.bytes[0]),
            signature: requestHash.bytes + outputHash.bytes,
            teeID: teeID
        )
    }

    func signRecord(_ record: SignableRecord) async throws(KeyServiceError) -> RecordSignature {
        switch record {
        case .heartbeat(let timestamp):
            return RecordSignature(messageHash: teeID.digest, signature: Array(String(timestamp).utf8))
        case .ohttpConfig(let config):
            return RecordSignature(messageHash: teeID.digest, signature: config.publicKey)
        }
    }

    func attest(nonce: AttestationNonce) async throws(KeyServiceError) -> [UInt8] {
        nonce.bytes.reversed()
    }

    func ohttpConfigs() async throws(KeyServiceError) -> [OHTTPKeyConfig] {
        [
            OHTTPKeyConfig(keyID: 1, kemID: 0x20, kdfID: 1, aeadID: 3, publicKey: [2, 2], keyConfig: [1, 0, 0x20]),
            OHTTPKeyConfig(keyID: 2, kemID: 0x647A, kdfID: 1, aeadID: 2, publicKey: [3], keyConfig: [2]),
        ]
    }

    func ohttpOpen(encapsulatedRequest: [UInt8], chunked: Bool) async throws(KeyServiceError) -> OpenedOHTTPRequest {
        guard encapsulatedRequest.first == 1 else { throw KeyServiceError(.unknownKeyID, "unknown key id") }
        return OpenedOHTTPRequest(
            plaintext: Array(encapsulatedRequest.dropFirst()),
            encapsulatedKey: [0xEE],
            kemID: 0x20,
            kdfID: 1,
            aeadID: 3,
            responseSecret: [UInt8](repeating: 0x11, count: 32),
            chunkedResponseSecret: [UInt8](repeating: 0x22, count: 32)
        )
    }

    func providerSecrets() async throws(KeyServiceError) -> ProviderSecrets {
        ProviderSecrets(apiKeys: ["openai": "sk-test", "anthropic": "sk-ant-test"])
    }

    /// Envelope text selects the outcome: "unauthorized", "replay", "garbage" fail with the
    /// matching code; anything else is accepted as a comma-separated provider list.
    func injectSecrets(envelope: [UInt8]) async throws(KeyServiceError) -> InjectedSecrets {
        switch String(decoding: envelope, as: UTF8.self) {
        case "unauthorized": throw KeyServiceError(.unauthorized, "operator signature does not verify")
        case "replay": throw KeyServiceError(.replay, "counter 3 was already used")
        case "garbage": throw KeyServiceError(.malformed, "envelope is not JSON")
        case let text: return InjectedSecrets(providers: text.split(separator: ",").map(String.init))
        }
    }

    func registerTLSCertificate(sha256: [UInt8]) async throws(KeyServiceError) {
        guard sha256 != teeID.digest.bytes else { throw KeyServiceError(.malformed, "that is the tee id, not a certificate hash") }
    }

    func health() async throws(KeyServiceError) -> KeyServiceHealth {
        try? await Task.sleep(for: healthDelay)
        return KeyServiceHealth(teeID: teeID, teeEnabled: false, providers: ["openai"], uptimeSeconds: 42)
    }

    func ready() async -> Bool { true }
}

/// Records the most requests a handler ran at the same time.
actor ConcurrencyProbe {
    private var current = 0
    private(set) var maximum = 0

    func enter() {
        current += 1
        maximum = max(maximum, current)
    }

    func leave() { current -= 1 }
}

let everyone = PeerPolicy(
    classesByUID: [getuid(): Set(PeerClass.allCases)],
    unidentifiedPeerClasses: Set(PeerClass.allCases)
)

/// Runs a key-service server on `endpoint` for the duration of `body`, then cancels it and
/// waits until it has shut down.
func withServer<T: Sendable>(
    _ endpoint: Endpoint,
    handler: EchoHandler,
    policy: PeerPolicy = everyone,
    configuration: KeyServiceServer<EchoHandler>.Configuration = .init(),
    _ body: @Sendable (KeyServiceServer<EchoHandler>) async throws -> T
) async throws -> T {
    let server = try await KeyServiceServer(
        bindingTo: endpoint,
        handler: handler,
        policy: policy,
        configuration: configuration,
        logger: quietLogger
    )
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await server.run() }
        defer { group.cancelAll() }
        return try await body(server)
    }
}

/// Runs `client.run()` for the duration of `body`.
func withRunningClient<T: Sendable>(
    _ client: KeyServiceClient,
    _ body: @Sendable (KeyServiceClient) async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await client.run() }
        defer { group.cancelAll() }
        return try await body(client)
    }
}

/// A framed connection for sending hand-made frames to a server.
func rawFramedConnection(to endpoint: Endpoint) async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
    try await endpoint.connect { channel in
        channel.eventLoop.makeCompletedFuture { try Framing.wrap(channel) }
    }
}

/// An unframed connection, for sending bytes that do not form valid frames.
func rawByteConnection(to endpoint: Endpoint) async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
    try await endpoint.connect { channel in
        channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel(wrappingChannelSynchronously: channel) }
    }
}

/// The outcome of a client call, for asserting on the exact error case.
func outcome<T>(_ body: () async throws(KeyServiceClientError) -> T) async -> Result<T, KeyServiceClientError> {
    do {
        return .success(try await body())
    } catch {
        return .failure(error)
    }
}
