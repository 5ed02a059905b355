import AsyncHTTPClient
import EnclaveIPC
import Foundation
import GatewayCore
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
import Testing

@testable import TLSFrontKit

/// A key service with scripted answers, served by EnclaveIPC's real server on a Unix socket.
final class FakeKeyService: KeyServiceHandler {
    let isReady = Mutex(true)
    let registered = Mutex<[[UInt8]]>([])
    let attestedNonces = Mutex<[[UInt8]]>([])
    static let teeID = TEEID(spkiDER: [0x30, 0x00])

    func publicKey() async throws(KeyServiceError) -> PublicKeyInfo {
        PublicKeyInfo(spkiDER: [0x30, 0x00], pem: "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n", teeID: Self.teeID)
    }
    func signInference(requestHash: Keccak256Digest, outputHash: Keccak256Digest) async throws(KeyServiceError) -> TEESignature {
        throw KeyServiceError(.forbidden, "not in this fake")
    }
    func signRecord(_ record: SignableRecord) async throws(KeyServiceError) -> RecordSignature {
        throw KeyServiceError(.forbidden, "not in this fake")
    }
    /// The "document" is a marker byte and the nonce, so tests see the nonce went through unchanged.
    func attest(nonce: AttestationNonce) async throws(KeyServiceError) -> [UInt8] {
        attestedNonces.withLock { $0.append(nonce.bytes) }
        return [0xD2] + nonce.bytes
    }
    func ohttpConfigs() async throws(KeyServiceError) -> [OHTTPKeyConfig] { [] }
    func ohttpOpen(encapsulatedRequest: [UInt8], chunked: Bool) async throws(KeyServiceError) -> OpenedOHTTPRequest {
        throw KeyServiceError(.malformed, "not in this fake")
    }
    func providerSecrets() async throws(KeyServiceError) -> ProviderSecrets { ProviderSecrets(apiKeys: [:]) }
    /// "good" is accepted, "replay" is a replay, anything else a bad signature.
    func injectSecrets(envelope: [UInt8]) async throws(KeyServiceError) -> InjectedSecrets {
        switch String(decoding: envelope, as: UTF8.self) {
        case "good": return InjectedSecrets(providers: ["openai"])
        case "replay": throw KeyServiceError(.replay, "counter 3 was already used")
        default: throw KeyServiceError(.unauthorized, "operator signature does not verify")
        }
    }
    func registerTLSCertificate(sha256: [UInt8]) async throws(KeyServiceError) {
        registered.withLock { $0.append(sha256) }
    }
    /// How long `health` takes to answer (a busy key-service).
    let healthDelay = Mutex<Duration>(.zero)
    func health() async throws(KeyServiceError) -> KeyServiceHealth {
        let delay = healthDelay.withLock { $0 }
        if delay > .zero { try? await Task.sleep(for: delay) }
        return KeyServiceHealth(teeID: Self.teeID, teeEnabled: false, providers: ["local"], uptimeSeconds: 7)
    }
    func ready() async -> Bool { isReady.withLock { $0 } }
}

/// Scripted worker behaviour shared between a fake worker's handlers and the test.
final class WorkerScript: Sendable {
    let name: String
    let healthy = Mutex(true)
    let requests = Mutex(0)
    let lastHeaders = Mutex<[String: String]>([:])
    /// Released by the test to let `/v1/hold` answer and `/v1/stream` send its second event.
    let gate: AsyncStream<Void>
    let gateContinuation: AsyncStream<Void>.Continuation
    /// Yields once when a `/v1/ticks` stream finds its connection gone.
    let aborted: AsyncStream<Void>
    let abortedContinuation: AsyncStream<Void>.Continuation

    init(name: String) {
        self.name = name
        (gate, gateContinuation) = AsyncStream<Void>.makeStream()
        (aborted, abortedContinuation) = AsyncStream<Void>.makeStream()
    }

    func open() { gateContinuation.finish() }

    func waitForGate() async {
        for await _ in gate {}
    }
}

/// An inference worker stand-in: a Hummingbird server on a Unix socket.
struct FakeWorker: Sendable {
    let script: WorkerScript
    let path: String
    var endpoint: Endpoint { get throws { try Endpoint.unix(path: path) } }

    static func router(_ script: WorkerScript) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/health") { _, _ -> Response in
            Response(status: script.healthy.withLock { $0 } ? .ok : .serviceUnavailable)
        }
        router.on("/v1/echo", method: .post) { request, _ -> Response in
            script.requests.withLock { $0 += 1 }
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            script.lastHeaders.withLock { $0 = headers }
            let body = try await request.body.collect(upTo: 64 * 1024 * 1024)
            var responseHeaders = HTTPFields()
            if let name = HTTPFields.Element.Name("x-worker") { responseHeaders[name] = script.name }
            return Response(status: .ok, headers: responseHeaders, body: .init(byteBuffer: body))
        }
        // Answers before reading the request body (the body is left for the server to drain).
        router.post("/v1/early") { _, _ -> Response in
            script.requests.withLock { $0 += 1 }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: script.name)))
        }
        router.get("/v1/whoami") { _, _ -> Response in
            script.requests.withLock { $0 += 1 }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: script.name)))
        }
        router.get("/v1/hold") { _, _ -> Response in
            script.requests.withLock { $0 += 1 }
            await script.waitForGate()
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: script.name)))
        }
        router.get("/v1/stream") { _, _ -> Response in
            var headers = HTTPFields()
            headers[.contentType] = "text/event-stream"
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: "data: one\n\n"))
                await script.waitForGate()
                try await writer.write(ByteBuffer(string: "data: two\n\n"))
                try await writer.finish(nil)
            })
        }
        router.get("/v1/ticks") { _, _ -> Response in
            Response(status: .ok, body: ResponseBody { writer in
                do {
                    for tick in 0..<1000 {
                        try await writer.write(ByteBuffer(string: "data: \(tick)\n\n"))
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    try await writer.finish(nil)
                } catch {
                    script.abortedContinuation.yield()
                    throw error
                }
            })
        }
        return router
    }
}

func temporaryDirectory() throws -> String {
    var template = Array("/tmp/tlsfront-test-XXXXXX".utf8CString)
    let path = try #require(mkdtemp(&template))
    return String(cString: path)
}

/// Runs `body` with a fake key service, fake workers and a tls-front on 127.0.0.1:0.
struct FrontHarness: Sendable {
    let front: TLSFront
    let baseURL: String
    let client: HTTPClient
    let keyService: FakeKeyService
    let workers: [FakeWorker]
    let directory: String
    let port: Int

    func get(_ path: String, timeout: Duration = .seconds(10)) async throws -> (status: Int, body: String, headers: [String: String]) {
        try await send(HTTPClientRequest(url: baseURL + path), timeout: timeout)
    }

    func send(_ request: HTTPClientRequest, timeout: Duration = .seconds(10)) async throws -> (status: Int, body: String, headers: [String: String]) {
        let response = try await client.execute(request, timeout: TimeAmount(timeout))
        let body = try await response.body.collect(upTo: 64 * 1024 * 1024)
        var headers: [String: String] = [:]
        for (name, value) in response.headers { headers[name.lowercased()] = value }
        return (Int(response.status.code), String(buffer: body), headers)
    }

    /// One command on tls-front's control socket.
    func control(_ command: String) async throws -> String {
        let endpoint = try Endpoint.unix(path: directory + "/control.sock")
        let channel = try await endpoint.connect { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: command + "\n"))
            var reply = ByteBuffer()
            for try await var chunk in inbound { reply.writeBuffer(&chunk) }
            return String(buffer: reply)
        }
    }

    func worker(_ index: Int) -> WorkerScript { workers[index].script }

    static func run(
        workers workerNames: [String] = ["w1"],
        keyServiceReady: Bool = true,
        configure: (inout TLSFrontConfiguration) -> Void = { _ in },
        _ body: (FrontHarness) async throws -> Void
    ) async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keyService = FakeKeyService()
        keyService.isReady.withLock { $0 = keyServiceReady }
        let keyEndpoint = try Endpoint.unix(path: directory + "/key.sock")
        let policy = PeerPolicy(classesByUID: [getuid(): Set(PeerClass.allCases)])
        let keyServer = try await KeyServiceServer(bindingTo: keyEndpoint, handler: keyService, policy: policy)
        let workers = workerNames.map { name in
            FakeWorker(script: WorkerScript(name: name), path: directory + "/\(name).sock")
        }
        var configuration = TLSFrontConfiguration(
            listen: try Endpoint.tcp(host: "127.0.0.1", port: 0),
            keyService: keyEndpoint,
            workers: try workers.map { try $0.endpoint },
            control: try Endpoint.unix(path: directory + "/control.sock"),
            healthCheckInterval: .milliseconds(100),
            drainTimeout: .seconds(5),
            registrationTimeout: .seconds(5)
        )
        configure(&configuration)
        var logger = Logger(label: "tls-front-test")
        logger.logLevel = .warning
        let front = try TLSFront(configuration: configuration, logger: logger)

        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates([try NIOSSLCertificate(bytes: front.certificate.derBytes, format: .der)])
        var clientConfiguration = HTTPClient.Configuration(tlsConfiguration: tls)
        clientConfiguration.httpVersion = .http1Only
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)

        let (listening, listeningContinuation) = AsyncStream<Endpoint>.makeStream()
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await keyServer.run() }
                for worker in workers {
                    group.addTask {
                        let app = Application(
                            router: FakeWorker.router(worker.script),
                            configuration: .init(address: .unixDomainSocket(path: worker.path)),
                            logger: Logger(label: "fake-worker", factory: { _ in SwiftLogNoOpLogHandler() })
                        )
                        try await app.runService()
                    }
                }
                group.addTask {
                    try await front.run { endpoint in listeningContinuation.yield(endpoint) }
                }
                var iterator = listening.makeAsyncIterator()
                let endpoint = try #require(await iterator.next())
                guard case .tcp(_, let port) = endpoint.address else { throw CancellationError() }
                let harness = FrontHarness(
                    front: front, baseURL: "https://127.0.0.1:\(port)", client: client, keyService: keyService,
                    workers: workers, directory: directory, port: Int(port)
                )
                try await harness.waitForReadyWorkers(workers.count)
                try await body(harness)
                for worker in workers { worker.script.open() }
                group.cancelAll()
            }
        } catch is CancellationError {
        } catch {
            // AsyncHTTPClient traps if it is released without a shutdown, which would end the
            // whole test process instead of failing this test.
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    func waitForReadyWorkers(_ count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while front.pool.readiness.ready < count {
            guard ContinuousClock.now < deadline else {
                Issue.record("only \(front.pool.readiness.ready) of \(count) workers became ready")
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
