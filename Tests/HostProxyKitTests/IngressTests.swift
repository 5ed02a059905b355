import EnclaveIPC
import NIOCore
import Synchronization
import Testing

@testable import HostProxyKit

@Suite struct IngressTests {
    static let headerSize = 16 + 12

    func withIngress<T: Sendable>(
        upstream: Endpoint,
        listen: Endpoint? = nil,
        maxConnections: Int = 64,
        limits: TunnelLimits = TunnelLimits(),
        metrics: ProxyMetrics = ProxyMetrics(),
        _ body: (ForwardingProxy) async throws -> T
    ) async throws -> T {
        let proxy = try await ForwardingProxy.ingress(
            ForwardingConfiguration(
                listen: try listen ?? loopback(),
                upstream: upstream,
                maxConnections: maxConnections,
                limits: limits,
                connectTimeout: .seconds(2)
            ),
            metrics: metrics
        )
        return try await serving(proxy, run: { try await $0.run() }, close: { await $0.close() }) {
            try await body(proxy)
        }
    }

    @Test func prefixesTheClientAddressAndCarriesBytesBothWays() async throws {
        let received = Captured<[UInt8]>()
        let upstream = try await TestServer.start { inbound, outbound in
            received.set(try await readAll(inbound))
            try await outbound.write(ByteBuffer(string: "pong"))
            // TestServer half-closes once this write is on the wire.
        }
        defer { Task { await upstream.stop() } }
        try await withTimeout {
            try await withIngress(upstream: upstream.endpoint) { proxy in
                let client = try await connect(proxy.endpoint)
                let clientPort = client.channel.localAddress?.port
                let reply = try await client.executeThenClose { inbound, outbound in
                    try await outbound.write(ByteBuffer(string: "ping"))
                    outbound.finish()  // half-close: the reply must still arrive
                    return try await readAll(inbound)
                }
                #expect(String(decoding: reply, as: UTF8.self) == "pong")
                let bytes = try await received.wait()
                try #require(bytes.count == Self.headerSize + 4)
                let header = try ProxyHeaderEncodingTests.parse(Array(bytes.prefix(Self.headerSize)))
                #expect(header.command == 1 && header.family == 1 && header.transport == 1)
                #expect(header.source == [127, 0, 0, 1])
                #expect(header.destination == [127, 0, 0, 1])
                #expect(Int(header.sourcePort) == clientPort)
                #expect(header.destinationPort == proxy.endpoint.port)
                #expect(String(decoding: bytes.suffix(4), as: UTF8.self) == "ping")
            }
        }
    }

    @Test func unixClientsGetALocalHeader() async throws {
        let directory = try temporaryDirectory()
        let received = Captured<[UInt8]>()
        let upstream = try await TestServer.start { inbound, outbound in
            received.set(try await readAll(inbound))
            outbound.finish()
        }
        defer { Task { await upstream.stop() } }
        try await withTimeout {
            try await withIngress(upstream: upstream.endpoint, listen: try Endpoint.unix(path: directory + "/in.sock"))
            {
                proxy in
                let client = try await connect(proxy.endpoint)
                _ = try await client.executeThenClose { inbound, outbound in
                    try await outbound.write(ByteBuffer(string: "x"))
                    outbound.finish()
                    return try await readAll(inbound)
                }
                let bytes = try await received.wait()
                #expect(bytes == ProxyHeaderParser.signature + [0x20, 0x00, 0x00, 0x00] + Array("x".utf8))
            }
        }
    }

    @Test func halfCloseEndsEachDirectionSeparately() async throws {
        let upstream = try await TestServer.start { inbound, outbound in
            let bytes = try await readAll(inbound)  // until the client's FIN arrives
            // Keep talking after the client stopped: 3 writes, then our own FIN.
            for index in 0..<3 {
                try await outbound.write(ByteBuffer(string: "after-eof-\(index);"))
            }
            try await outbound.write(ByteBuffer(string: "got \(bytes.count - Self.headerSize)"))
            outbound.finish()
        }
        defer { Task { await upstream.stop() } }
        try await withTimeout {
            try await withIngress(upstream: upstream.endpoint) { proxy in
                let client = try await connect(proxy.endpoint)
                let reply = try await client.executeThenClose { inbound, outbound in
                    try await outbound.write(ByteBuffer(repeating: 7, count: 100_000))
                    outbound.finish()
                    return try await readAll(inbound)  // returns only when the upstream's FIN arrives
                }
                #expect(String(decoding: reply, as: UTF8.self) == "after-eof-0;after-eof-1;after-eof-2;got 100000")
            }
        }
    }

    @Test func connectionsBeyondTheLimitAreClosedAndCounted() async throws {
        let upstream = try await TestServer.start { inbound, outbound in
            try await echoHandler(inbound, outbound)
        }
        defer { Task { await upstream.stop() } }
        let metrics = ProxyMetrics()
        try await withTimeout {
            try await withIngress(upstream: upstream.endpoint, maxConnections: 2, metrics: metrics) { proxy in
                var held: [ByteChannel] = []
                for _ in 0..<2 {
                    let client = try await connect(proxy.endpoint)
                    held.append(client)
                }
                // Prove both are tunnelled (so both hold a slot) before opening the third.
                for client in held {
                    try await client.channel.writeAndFlush(ByteBuffer(string: "hi"))
                }
                while upstream.accepted < 2 { try await Task.sleep(for: .milliseconds(10)) }
                let refused = try await connect(proxy.endpoint)
                let bytes = try await refused.executeThenClose { inbound, _ in try await readAll(inbound) }
                #expect(bytes.isEmpty)
                #expect(
                    metricValue(
                        metrics.text, "host_proxy_refusals_total",
                        ["direction": "ingress", "reason": "too_many_connections"]) == 1)
                #expect(upstream.accepted == 2)
                for client in held {
                    try await client.channel.close()
                }
            }
        }
    }

    @Test func quietTunnelsAreClosedAfterTheIdleTimeout() async throws {
        let upstreamClosed = Captured<Bool>()
        let upstream = try await TestServer.start { inbound, outbound in
            try await echoHandler(inbound, outbound)
            upstreamClosed.set(true)
        }
        defer { Task { await upstream.stop() } }
        try await withTimeout {
            try await withIngress(upstream: upstream.endpoint, limits: TunnelLimits(idleTimeout: .milliseconds(300))) {
                proxy in
                let client = try await connect(proxy.endpoint)
                let start = ContinuousClock.now
                let bytes = try await client.executeThenClose { inbound, outbound in
                    try await outbound.write(ByteBuffer(string: "once"))
                    return try await readAll(inbound)  // the echo, then EOF when the proxy gives up
                }
                let elapsed = ContinuousClock.now - start
                #expect(String(decoding: bytes, as: UTF8.self).hasSuffix("once"))
                // Not before the idle timeout (300 ms, less 50 ms for where `start` was taken);
                // the surrounding timeout catches a tunnel that is never closed.
                #expect(elapsed >= .milliseconds(250))
                #expect(try await upstreamClosed.wait() == true)
            }
        }
    }

    @Test func unreachableEnclaveClosesTheClientAndIsCounted() async throws {
        let directory = try temporaryDirectory()
        let metrics = ProxyMetrics()
        try await withTimeout {
            try await withIngress(upstream: try Endpoint.unix(path: directory + "/nobody.sock"), metrics: metrics) {
                proxy in
                let client = try await connect(proxy.endpoint)
                let bytes = try await client.executeThenClose { inbound, _ in try await readAll(inbound) }
                #expect(bytes.isEmpty)
                #expect(
                    metricValue(
                        metrics.text, "host_proxy_refusals_total",
                        ["direction": "ingress", "reason": "upstream_unreachable"]) == 1)
            }
        }
    }

    /// A reader that stops reading must stall the writer, not grow the proxy's buffers.
    @Test func aStalledReaderBoundsWhatTheProxyBuffers() async throws {
        let total = 64 << 20
        let stream = PatternStream()
        let release = Gate()
        let verified = Captured<(count: Int, intact: Bool)>()
        let upstream = try await TestServer.start { inbound, outbound in
            await release.wait()
            var offset = -Self.headerSize
            var intact = true
            for try await var buffer in inbound {
                if offset < 0 {
                    let skip = min(-offset, buffer.readableBytes)
                    buffer.moveReaderIndex(forwardBy: skip)
                    offset += skip
                }
                if intact && !stream.matches(buffer, at: offset) { intact = false }
                offset += buffer.readableBytes
            }
            verified.set((offset, intact))
            outbound.finish()
        }
        defer { Task { await upstream.stop() } }
        try await withTimeout(.seconds(120)) {
            try await withIngress(upstream: upstream.endpoint) { proxy in
                let client = try await connect(proxy.endpoint)
                let written = SharedCount()
                try await client.executeThenClose { inbound, outbound in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            var offset = 0
                            while offset < total {
                                let count = min(64 * 1024, total - offset)
                                try await outbound.write(stream.chunk(at: offset, count: count))
                                offset += count
                                written.store(offset)
                            }
                            outbound.finish()
                        }
                        // Wait until the writer makes no progress for half a second.
                        var last = -1
                        var still = 0
                        for _ in 0..<400 where still < 5 {
                            try await Task.sleep(for: .milliseconds(100))
                            let now = written.current
                            still = now == last ? still + 1 : 0
                            last = now
                        }
                        let stalledAt = written.current
                        #expect(stalledAt < total, "the writer never stalled")
                        #expect(proxy.inFlight.peak <= 1 << 20, "proxy buffered \(proxy.inFlight.peak) bytes")
                        release.open()
                        try await group.next()
                        _ = try await readAll(inbound)
                    }
                }
                let result = try await verified.wait(timeout: .seconds(60))
                #expect(result.count == total)
                #expect(result.intact)
                // After the stall the client's FIN lets NIO drain one receive buffer at once.
                #expect(proxy.inFlight.peak <= 8 << 20, "proxy buffered \(proxy.inFlight.peak) bytes")
            }
        }
    }
}
