import AsyncHTTPClient
import EnclaveIPC
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Testing

@testable import TLSFrontKit

#if canImport(Glibc)
import Glibc
#endif

/// What keeps tls-front serving when workers vanish, clients misbehave or connections pile up.
@Suite("tls-front resilience", .serialized)
struct ResilienceTests {
    /// A worker whose socket is gone (crashed, or removed in a rotation) but still marked
    /// healthy: the request never reached it, so it goes to another worker instead of failing.
    @Test func aRequestThatNeverReachedItsWorkerGoesToAnother() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ghost = try Endpoint.unix(path: directory + "/ghost.sock")
        try await FrontHarness.run(workers: ["w1"], configure: { $0.workers.append(ghost) }) { harness in
            var ghostChosen = 0
            for _ in 0..<20 {
                harness.front.pool.setHealthy(ghost, true)
                let (status, body, _) = try await harness.get("/v1/whoami")
                #expect(status == 200, "\(body)")
                #expect(body == "w1")
                if !harness.front.pool.isHealthy(ghost) { ghostChosen += 1 }
            }
            #expect(harness.worker(0).requests.withLock { $0 } == 20)
            #expect(ghostChosen > 0, "the ghost worker was never chosen, so nothing was retried")
        }
    }

    /// tls-front used to stream request bodies into AsyncHTTPClient while Hummingbird drained
    /// the same body after a worker answered early: two readers of one body trap the process.
    /// Bodies are now collected first; a worker that answers without reading must change nothing.
    @Test func aWorkerThatAnswersBeforeReadingTheBodyLeavesTLSFrontServing() async throws {
        try await FrontHarness.run(workers: ["w1"]) { harness in
            for round in 0..<20 {
                var request = HTTPClientRequest(url: harness.baseURL + "/v1/early")
                request.method = .POST
                request.body = .stream(SlowBody(chunks: 8, size: 32 * 1024, delay: .milliseconds(2)), length: .unknown)
                let (status, body, _) = try await harness.send(request)
                #expect(status == 200, "round \(round): \(body)")
                #expect(body == "w1")
            }
            var echo = HTTPClientRequest(url: harness.baseURL + "/v1/echo")
            echo.method = .POST
            echo.body = .stream(SlowBody(chunks: 32, size: 32 * 1024, delay: .zero), length: .unknown)
            let (status, body, _) = try await harness.send(echo)
            #expect(status == 200)
            #expect(body.utf8.count == 32 * 32 * 1024)
            #expect(body.utf8.allSatisfy { $0 == UInt8(ascii: "x") })
        }
    }

    @Test func aChunkedBodyOverTheLimitIs413() async throws {
        try await FrontHarness.run(workers: ["w1"], configure: { $0.maximumBodyBytes = 100_000 }) { harness in
            var request = HTTPClientRequest(url: harness.baseURL + "/v1/echo")
            request.method = .POST
            request.body = .stream(SlowBody(chunks: 8, size: 32 * 1024, delay: .zero), length: .unknown)
            let (status, body, _) = try await harness.send(request)
            #expect(status == 413)
            #expect(body.contains("100000"), "\(body)")
            #expect(harness.worker(0).requests.withLock { $0 } == 0, "an oversized body reached the worker")
        }
    }

    @Test func aWorkerSetThatDoesNotAnswerIsRefusedAndTheOldSetKeepsServing() async throws {
        try await FrontHarness.run(workers: ["w1"]) { harness in
            let reply = try await harness.control("workers unix://\(harness.directory)/nobody.sock")
            #expect(reply.hasPrefix("error none of the new workers answers"), "\(reply)")
            #expect(harness.front.pool.members.count == 1)
            let (status, body, _) = try await harness.get("/v1/whoami")
            #expect(status == 200 && body == "w1")
        }
    }

    /// 50 sockets that never start a TLS handshake are closed by the server after the handshake
    /// timeout, while a normal client is served the whole time.
    @Test func connectionsThatNeverHandshakeAreClosed() async throws {
        try await FrontHarness.run(workers: ["w1"], configure: { $0.handshakeTimeout = .seconds(1) }) { harness in
            let sockets = try (0..<50).map { _ in try RawSocket(port: harness.port) }
            defer { for socket in sockets { socket.close() } }
            let (status, _, _) = try await harness.get("/health")
            #expect(status == 200)
            for socket in sockets {
                #expect(try await socket.waitForEOF(limit: .seconds(20)), "a silent connection is still open")
            }
            let (after, _, _) = try await harness.get("/health")
            #expect(after == 200)
        }
    }

    /// A client that completes the handshake and then trickles an incomplete request head is
    /// closed after the request-head timeout.
    @Test func aRequestHeadThatNeverCompletesIsClosed() async throws {
        try await FrontHarness.run(workers: ["w1"], configure: { $0.requestHeadTimeout = .seconds(1) }) { harness in
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .certificates([try NIOSSLCertificate(bytes: harness.front.certificate.derBytes, format: .der)])
            let context = try NIOSSLContext(configuration: tls)
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
                    }
                }
                .connect(host: "127.0.0.1", port: harness.port).get()
            try await channel.writeAndFlush(ByteBuffer(string: "GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")).get()
            let closed = try await withDeadlineResult(.seconds(20)) { try await channel.closeFuture.get() }
            #expect(closed, "the server kept a connection with an incomplete head open")
            if !closed { try? await channel.close() }
        }
    }

    @Test func oversizedHeadersGet431() async throws {
        try await FrontHarness.run(workers: ["w1"], configure: { $0.maximumHeaderBytes = 8 * 1024 }) { harness in
            var request = HTTPClientRequest(url: harness.baseURL + "/v1/whoami")
            request.headers.add(name: "X-Big", value: String(repeating: "a", count: 16 * 1024))
            let (status, body, headers) = try await harness.send(request)
            #expect(status == 431)
            #expect(headers["content-type"] == "application/json")
            #expect(body.contains("request header fields too large"))
            #expect(harness.worker(0).requests.withLock { $0 } == 0)
            let (after, _, _) = try await harness.get("/health")
            #expect(after == 200)
        }
    }

    @Test func connectionsOverTheLimitGetOne503() async throws {
        try await FrontHarness.run(workers: ["w1"], configure: { $0.maximumConnections = 3 }) { harness in
            let sockets = try (0..<3).map { _ in try RawSocket(port: harness.port) }
            defer { for socket in sockets { socket.close() } }
            try await eventually { (try? await harness.control("status"))?.contains("connections=3") == true }
            let (status, body, _) = try await harness.get("/health")
            #expect(status == 503)
            #expect(body.contains("open connections, its limit"), "\(body)")
        }
    }

    @Test func connectionsOverThePerClientLimitGetOne503() async throws {
        try await FrontHarness.run(workers: ["w1"], configure: { $0.maximumConnectionsPerClient = 2 }) { harness in
            let sockets = try (0..<2).map { _ in try RawSocket(port: harness.port) }
            defer { for socket in sockets { socket.close() } }
            try await eventually { (try? await harness.control("status"))?.contains("connections=2") == true }
            let (status, body, _) = try await harness.get("/health")
            #expect(status == 503)
            #expect(body.contains("per-client limit"), "\(body)")
        }
    }

    @Test func aPerClientLimitOf0LeavesOnlyTheTotal() {
        let limiter = ConnectionLimiter(maximumTotal: 3, maximumPerClient: 0)
        #expect((0..<3).map { _ in limiter.admit(client: "127.0.0.1") } == [nil, nil, nil])
        #expect(limiter.admit(client: "127.0.0.1") == .total(3))
        #expect(limiter.admit(client: nil) == .total(3))
        for _ in 0..<5 { limiter.release(client: "127.0.0.1") }
        #expect(limiter.open == 0)
        #expect(limiter.admit(client: "10.0.0.1") == nil)
        // With a per-client limit, the same address is capped before the total.
        let capped = ConnectionLimiter(maximumTotal: 3, maximumPerClient: 1)
        #expect(capped.admit(client: "127.0.0.1") == nil)
        #expect(capped.admit(client: "127.0.0.1") == .perClient(1))
    }

    @Test func negativeOrZeroConnectionLimitsAreRefusedAtStart() throws {
        for (total, perClient) in [(0, 1), (10, -1)] {
            var configuration = TLSFrontConfiguration(
                listen: try Endpoint.tcp(host: "127.0.0.1", port: 0), keyService: try Endpoint.unix(path: "/nonexistent/key.sock"),
                workers: [], control: nil)
            configuration.maximumConnections = total
            configuration.maximumConnectionsPerClient = perClient
            #expect {
                _ = try TLSFront(configuration: configuration, logger: Logger(label: "test"))
            } throws: { error in
                "\(error)".contains("connection limits must be at least 1 in total and 0 (no cap) or more per client")
            }
        }
    }
}

/// A request body produced in `chunks` pieces of `size` bytes of "x", `delay` apart.
struct SlowBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let chunks: Int
    let size: Int
    let delay: Duration

    struct AsyncIterator: AsyncIteratorProtocol {
        let body: SlowBody
        var sent = 0

        mutating func next() async throws -> ByteBuffer? {
            guard sent < body.chunks else { return nil }
            sent += 1
            if body.delay > .zero { try await Task.sleep(for: body.delay) }
            return ByteBuffer(repeating: UInt8(ascii: "x"), count: body.size)
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(body: self) }
}

/// A plain TCP connection that sends nothing: the way a client that never handshakes looks.
struct RawSocket: Sendable {
    let descriptor: Int32

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(.EMFILE) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            Glibc.close(descriptor)
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .ECONNREFUSED)
        }
    }

    /// Whether the server closed the connection (read returns 0 or a reset) within `limit`.
    func waitForEOF(limit: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            var pollDescriptor = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            if poll(&pollDescriptor, 1, 0) > 0 {
                var byte: UInt8 = 0
                let count = read(descriptor, &byte, 1)
                if count <= 0 { return true }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    func close() { Glibc.close(descriptor) }
}

/// Whether `body` finished within `limit`.
func withDeadlineResult(_ limit: Duration, _ body: @escaping @Sendable () async throws -> Void) async throws -> Bool {
    try await withThrowingTaskGroup(of: Bool.self) { group in
        group.addTask {
            try await body()
            return true
        }
        group.addTask {
            try await Task.sleep(for: limit)
            return false
        }
        defer { group.cancelAll() }
        return try await group.next() ?? false
    }
}

/// `waitUntil` for a condition that needs to await (a control-socket round trip).
func eventually(_ condition: @Sendable () async -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(10)
    while await !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("condition not met within 10 s")
            return
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}
