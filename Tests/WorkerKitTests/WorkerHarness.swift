import Attestation
import EnclaveIPC
import Foundation
import GatewayCore
import KeyServiceKit
import Logging
import Providers
import Synchronization
import WorkerKit
import UpstreamMock

/// Everything the worker logged, rendered as text (message, metadata and attached error), so tests
/// can check that no prompt, completion or key ever reaches a log.
final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    var all: [String] { lines.withLock { $0 } }

    func append(_ line: String) { lines.withLock { $0.append(line) } }

    var logger: Logger {
        Logger(label: "worker-under-test") { label in CapturingLogHandler(label: label, capture: self) }
    }
}

struct CapturingLogHandler: LogHandler {
    let label: String
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let rendered = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let error = event.error.map { " error=\($0)" } ?? ""
        capture.append("\(event.level) \(label): \(event.message) \(rendered)\(error)")
    }
}

let quietLogger = Logger(label: "worker-tests") { _ in SwiftLogNoOpLogHandler() }

/// A fresh short directory under /tmp (socket paths must fit sun_path), removed after `body`.
func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let path = "/tmp/wk-" + UUID().uuidString.prefix(8)
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}

/// A real key service (simulated NSM, dev certificate authority) served on `socketPath` to the
/// current uid with every peer class, for the duration of `body`.
func withKeyService<T: Sendable>(
    at socketPath: String, initialSecrets: [String: String] = [:], _ body: (KeyService) async throws -> T
) async throws -> T {
    let service = try KeyService(
        configuration: KeyService.Configuration(
            nsm: try SimulatedNSM(authority: try DevCertificateAuthority()),
            teeEnabled: false,
            initialSecrets: initialSecrets
        ),
        logger: quietLogger
    )
    let server = try await KeyServiceServer(
        bindingTo: try Endpoint.unix(path: socketPath), handler: service,
        policy: PeerPolicy(classesByUID: [getuid(): Set(PeerClass.allCases)]), logger: quietLogger
    )
    let serving = Task { try await server.run() }
    do {
        let result = try await body(service)
        serving.cancel()
        _ = await serving.result
        return result
    } catch {
        serving.cancel()
        _ = await serving.result
        throw error
    }
}

/// A running `InferenceWorker` on its own Unix socket, talking to the key service at
/// `keyServicePath` (which need not exist yet: the worker retries until it does).
func withRunningWorker<T: Sendable>(
    keyServicePath: String, socketPath: String, logs: LogCapture,
    configure: (inout InferenceWorker.Configuration) -> Void = { _ in },
    _ body: (UnixHTTPClient) async throws -> T
) async throws -> T {
    var configuration = InferenceWorker.Configuration(
        socketPath: socketPath, keyService: try Endpoint.unix(path: keyServicePath))
    configure(&configuration)
    let worker = InferenceWorker(configuration: configuration, logger: logs.logger)
    let running = Task { try await worker.run(handlingSignals: false) }
    let client = UnixHTTPClient(socketPath: socketPath)
    do {
        try await client.waitUntilListening()
        let result = try await body(client)
        running.cancel()
        try await running.value
        return result
    } catch {
        running.cancel()
        _ = await running.result
        throw error
    }
}

/// What a test gets: the worker's client, its key service and its captured logs.
struct WorkerFixture: Sendable {
    let client: UnixHTTPClient
    let keyService: KeyService
    let logs: LogCapture

    /// Polls `/health` until it answers 200 (the worker has fetched its identity).
    func waitUntilReady(timeout: Duration = .seconds(20)) async throws -> HTTPReply {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            let reply = try await client.send(.GET, "/health")
            if reply.status == 200 { return reply }
            guard clock.now < deadline else {
                throw TestFailure("the worker never became ready: \(reply.status) \(reply.text)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// The key the worker publishes on `/signing-key`.
    func verifyingKey() async throws -> InferenceVerifyingKey {
        let reply = try await client.send(.GET, "/signing-key")
        guard reply.status == 200, let pem = try reply.json["public_key"] as? String else {
            throw TestFailure("no signing key: \(reply.status) \(reply.text)")
        }
        return try InferenceVerifyingKey(pem: pem)
    }
}

/// A key service and a ready worker in one short temporary directory.
func withWorker<T: Sendable>(
    initialSecrets: [String: String] = [:],
    configure: (inout InferenceWorker.Configuration) -> Void = { _ in },
    _ body: (WorkerFixture) async throws -> T
) async throws -> T {
    try await withTemporaryDirectory { directory in
        try await withKeyService(at: directory + "/key.sock", initialSecrets: initialSecrets) { service in
            let logs = LogCapture()
            return try await withRunningWorker(
                keyServicePath: directory + "/key.sock", socketPath: directory + "/worker.sock", logs: logs,
                configure: configure
            ) { client in
                let fixture = WorkerFixture(client: client, keyService: service, logs: logs)
                _ = try await fixture.waitUntilReady()
                return try await body(fixture)
            }
        }
    }
}

/// A registry whose OpenAI and Anthropic providers live on `mock`.
func registry(_ mock: MockUpstream) -> ModelRegistry {
    var urls = ProviderBaseURLs()
    urls.openAI = mock.baseURL + "/v1"
    urls.anthropic = mock.baseURL + "/v1"
    urls.google = mock.baseURL + "/v1beta"
    urls.xAI = mock.baseURL + "/xai/v1"
    urls.byteDance = mock.baseURL + "/api/v3"
    return ModelRegistry(baseURLs: urls)
}

/// A mock upstream with `replies` and a ready worker routed to it, holding `sk-test` as the
/// OpenAI, Anthropic and Google keys.
func withUpstreamWorker<T: Sendable>(
    _ replies: [MockUpstream.Reply],
    upstream: UpstreamConfiguration = UpstreamConfiguration(),
    streamKeepAlive: Duration = .seconds(15),
    _ body: (WorkerFixture, MockUpstream) async throws -> T
) async throws -> T {
    let mock = try await MockUpstream.start(replies)
    do {
        let result = try await withWorker(initialSecrets: ["openai_api_key": "sk-test", "anthropic_api_key": "sk-test", "google_api_key": "sk-test"])
        {
            $0.registry = registry(mock)
            $0.upstream = upstream
            $0.streamKeepAlive = streamKeepAlive
        } _: { fixture in
            try await body(fixture, mock)
        }
        await mock.stop()
        return result
    } catch {
        await mock.stop()
        throw error
    }
}
