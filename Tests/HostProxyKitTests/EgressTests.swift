import EnclaveIPC
import NIOCore
import Testing

@testable import HostProxyKit

@Suite struct EgressTests {
    @Test func anAllowlistedTargetGetsATunnel() async throws {
        let upstream = try await TestServer.start(handle: echoHandler)
        defer { Task { await upstream.stop() } }
        let resolver = StubResolver(["mock.test": ["127.0.0.1"]])
        let metrics = ProxyMetrics()
        try await withTimeout {
            try await withEgress(allowlist: "mock.test:\(upstream.endpoint.port)", resolver: resolver, metrics: metrics) {
                proxy in
                let client = try await TunnelClient.open(proxy.endpoint)
                let echoed = try await client.exchange(connectRequest("mock.test:\(upstream.endpoint.port)")) {
                    head, iterator, early, outbound in
                    #expect(head.text == "HTTP/1.1 200 Connection established\r\n\r\n")
                    #expect(early.readableBytes == 0)
                    try await outbound.write(ByteBuffer(string: "through the tunnel"))
                    outbound.finish()
                    var bytes: [UInt8] = []
                    while let buffer = try await iterator.next() { bytes += buffer.readableBytesView }
                    return String(decoding: bytes, as: UTF8.self)
                }
                #expect(echoed == "through the tunnel")
                #expect(resolver.resolved == ["mock.test"])
                let text = metrics.text
                #expect(metricValue(text, "host_proxy_bytes_total", ["direction": "egress", "flow": "from_client"]) == 18)
                #expect(metricValue(text, "host_proxy_bytes_total", ["direction": "egress", "flow": "to_client"]) == 18)
                #expect(metricValue(text, "host_proxy_connections_total", ["direction": "egress"]) == 1)
            }
        }
    }

    @Test func bytesSentWithTheRequestHeadAreForwarded() async throws {
        let upstream = try await TestServer.start(handle: echoHandler)
        defer { Task { await upstream.stop() } }
        let target = "mock.test:\(upstream.endpoint.port)"
        try await withTimeout {
            try await withEgress(allowlist: target, resolver: StubResolver(["mock.test": ["127.0.0.1"]])) { proxy in
                let client = try await TunnelClient.open(proxy.endpoint)
                // A client that sends its TLS ClientHello without waiting for the 200.
                let echoed = try await client.exchange(connectRequest(target) + "early bytes") {
                    head, iterator, early, outbound in
                    #expect(head.statusLine == "HTTP/1.1 200 Connection established")
                    outbound.finish()
                    var bytes = Array(early.readableBytesView)
                    while let buffer = try await iterator.next() { bytes += buffer.readableBytesView }
                    return String(decoding: bytes, as: UTF8.self)
                }
                #expect(echoed == "early bytes")
            }
        }
    }

    @Test func targetsMissingFromTheAllowlistAreRefusedBeforeResolving() async throws {
        let upstream = try await TestServer.start(handle: echoHandler)
        defer { Task { await upstream.stop() } }
        let port = upstream.endpoint.port
        let resolver = StubResolver(["mock.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]])
        let metrics = ProxyMetrics()
        try await withTimeout {
            try await withEgress(allowlist: "mock.test:\(port)\n*.wild.test:\(port)", resolver: resolver, metrics: metrics) {
                proxy in
                for target in ["other.test:\(port)", "mock.test:\(port &+ 1)", "wild.test:\(port)", "127.0.0.1:\(port)"] {
                    let client = try await TunnelClient.open(proxy.endpoint)
                    let status = try await client.statusLine(for: connectRequest(target))
                    #expect(status == "HTTP/1.1 403 Forbidden", "\(target)")
                }
                #expect(resolver.resolved.isEmpty)
                #expect(upstream.accepted == 0)
                #expect(metricValue(metrics.text, "host_proxy_refusals_total", ["direction": "egress", "reason": "not_allowlisted"]) == 4)
            }
        }
    }

    /// DNS rebinding: allowlisted names whose addresses are internal are refused after
    /// resolution, before any connect. The stub makes sure no real DNS or network is touched;
    /// the loopback case points at a live server to prove nothing connects to it.
    @Test func namesResolvingToForbiddenAddressesAreRefusedBeforeConnecting() async throws {
        let upstream = try await TestServer.start(handle: echoHandler)
        defer { Task { await upstream.stop() } }
        let port = upstream.endpoint.port
        let resolver = StubResolver([
            "private.test": ["10.0.0.5"],
            "metadata.test": ["169.254.169.254"],
            "loopback.test": ["127.0.0.1"],
            "mapped.test": ["::ffff:10.0.0.5", "::ffff:127.0.0.1"],
            "linklocal.test": ["fe80::1"],
        ])
        let metrics = ProxyMetrics()
        let names = ["private.test", "metadata.test", "loopback.test", "mapped.test", "linklocal.test"]
        try await withTimeout {
            try await withEgress(
                allowlist: names.map { "\($0):\(port)" }.joined(separator: "\n"),
                resolver: resolver,
                policy: .publicOnly,
                metrics: metrics
            ) { proxy in
                for name in names {
                    let client = try await TunnelClient.open(proxy.endpoint)
                    let answer = try await client.exchange(connectRequest("\(name):\(port)")) { head, iterator, early, _ in
                        var body = Array(early.readableBytesView)
                        while let buffer = try await iterator.next() { body += buffer.readableBytesView }
                        return (head.statusLine, String(decoding: body, as: UTF8.self))
                    }
                    #expect(answer.0 == "HTTP/1.1 403 Forbidden", "\(name)")
                    #expect(answer.1.contains("forbidden addresses"), "\(name): \(answer.1)")
                }
                #expect(resolver.resolved == names)
                #expect(upstream.accepted == 0)
                #expect(metricValue(metrics.text, "host_proxy_refusals_total", ["direction": "egress", "reason": "forbidden_address"]) == 5)
            }
        }
    }

    @Test func onlyTheAllowedAddressesOfAMixedAnswerAreUsed() async throws {
        let upstream = try await TestServer.start(handle: echoHandler)
        defer { Task { await upstream.stop() } }
        let port = upstream.endpoint.port
        // The metadata address comes first; egress must skip it and use loopback (dev policy).
        let resolver = StubResolver(["mixed.test": ["169.254.169.254", "10.0.0.5", "127.0.0.1"]])
        try await withTimeout {
            try await withEgress(allowlist: "mixed.test:\(port)", resolver: resolver) { proxy in
                let client = try await TunnelClient.open(proxy.endpoint)
                let echoed = try await client.exchange(connectRequest("mixed.test:\(port)")) { head, iterator, _, outbound in
                    #expect(head.statusLine == "HTTP/1.1 200 Connection established")
                    try await outbound.write(ByteBuffer(string: "ok"))
                    outbound.finish()
                    var bytes: [UInt8] = []
                    while let buffer = try await iterator.next() { bytes += buffer.readableBytesView }
                    return String(decoding: bytes, as: UTF8.self)
                }
                #expect(echoed == "ok")
                #expect(upstream.accepted == 1)
            }
        }
    }

    @Test func malformedRequestsGetTheRightStatus() async throws {
        let resolver = StubResolver(["mock.test": ["127.0.0.1"]])
        let metrics = ProxyMetrics()
        let cases: [(String, String)] = [
            ("CONNECT mock.test HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request"),  // no port
            ("CONNECT http://mock.test:443/ HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request"),  // absolute-form
            ("CONNECT mock.test:443\r\n\r\n", "HTTP/1.1 400 Bad Request"),  // no version
            ("CONNECT mock.test:443 HTTP/1.1\nHost: x\n\n", "HTTP/1.1 400 Bad Request"),  // bare LF
            ("\u{16}\u{03}\u{01}\u{00}\u{05}hello\r\n\r\n", "HTTP/1.1 400 Bad Request"),  // TLS, not HTTP
            ("CONNECT mock.test:443 HTTP/1.1\r\nX-Big: " + String(repeating: "a", count: 9000) + "\r\n\r\n",
             "HTTP/1.1 400 Bad Request"),  // head over 8 KiB
            ("GET http://mock.test:443/ HTTP/1.1\r\nHost: mock.test\r\n\r\n", "HTTP/1.1 405 Method Not Allowed"),
            ("POST / HTTP/1.1\r\nHost: mock.test\r\n\r\n", "HTTP/1.1 405 Method Not Allowed"),
        ]
        try await withTimeout {
            try await withEgress(allowlist: "mock.test:443", resolver: resolver, metrics: metrics) { proxy in
                for (request, expected) in cases {
                    let client = try await TunnelClient.open(proxy.endpoint)
                    let status = try await client.statusLine(for: request)
                    #expect(status == expected, "\(request.prefix(40))")
                }
                #expect(resolver.resolved.isEmpty)
                let text = metrics.text
                #expect(metricValue(text, "host_proxy_refusals_total", ["direction": "egress", "reason": "malformed_request"]) == 6)
                #expect(metricValue(text, "host_proxy_refusals_total", ["direction": "egress", "reason": "method_not_allowed"]) == 2)
            }
        }
    }

    @Test func aClientThatNeverFinishesItsHeadIsDropped() async throws {
        let resolver = StubResolver([:])
        try await withTimeout {
            try await withEgress(allowlist: "mock.test:443", resolver: resolver, requestTimeout: .seconds(1)) { proxy in
                let client = try await TunnelClient.open(proxy.endpoint)
                let answer = try await client.exchange("CONNECT mock.test:443 HTTP/1.1\r\n") { head, iterator, early, _ in
                    var text = String(buffer: early)
                    while let more = try await iterator.next() { text += String(buffer: more) }
                    return (head.statusLine, text)
                }
                #expect(answer.0 == "HTTP/1.1 400 Bad Request")
                #expect(answer.1.contains("the request head did not arrive in time"), "\(answer.1)")
            }
        }
    }

    @Test func unresolvableAndUnreachableTargetsAre502() async throws {
        // A port nothing listens on: bind one, note it, close it.
        let closed = try await TestServer.start(handle: echoHandler)
        let deadPort = closed.endpoint.port
        await closed.stop()
        let resolver = StubResolver(["dead.test": ["127.0.0.1"]])
        let metrics = ProxyMetrics()
        try await withTimeout {
            try await withEgress(allowlist: "dead.test:\(deadPort)\nnxdomain.test:443", resolver: resolver, metrics: metrics) {
                proxy in
                let unreachable = try await TunnelClient.open(proxy.endpoint)
                #expect(try await unreachable.statusLine(for: connectRequest("dead.test:\(deadPort)")) == "HTTP/1.1 502 Bad Gateway")
                let unresolvable = try await TunnelClient.open(proxy.endpoint)
                #expect(try await unresolvable.statusLine(for: connectRequest("nxdomain.test:443")) == "HTTP/1.1 502 Bad Gateway")
                let text = metrics.text
                #expect(metricValue(text, "host_proxy_refusals_total", ["direction": "egress", "reason": "upstream_unreachable"]) == 1)
                #expect(metricValue(text, "host_proxy_refusals_total", ["direction": "egress", "reason": "resolution_failed"]) == 1)
            }
        }
    }

    @Test func connectionsBeyondTheLimitGet503() async throws {
        let upstream = try await TestServer.start(handle: echoHandler)
        defer { Task { await upstream.stop() } }
        let target = "mock.test:\(upstream.endpoint.port)"
        try await withTimeout {
            try await withEgress(allowlist: target, resolver: StubResolver(["mock.test": ["127.0.0.1"]]), maxConnections: 1) {
                proxy in
                let held = try await TunnelClient.open(proxy.endpoint)
                let refused = try await held.exchange(connectRequest(target)) { head, _, _, _ in
                    #expect(head.statusLine == "HTTP/1.1 200 Connection established")
                    let second = try await TunnelClient.open(proxy.endpoint)
                    return try await second.statusLine(for: connectRequest(target))
                }
                #expect(refused == "HTTP/1.1 503 Service Unavailable")
            }
        }
    }

    @Test func halfCloseWorksThroughTheTunnel() async throws {
        let upstream = try await TestServer.start { inbound, outbound in
            let bytes = try await readAll(inbound)
            try await outbound.write(ByteBuffer(string: "received \(bytes.count) bytes after your FIN"))
            // TestServer half-closes once this write is on the wire.
        }
        defer { Task { await upstream.stop() } }
        let target = "mock.test:\(upstream.endpoint.port)"
        try await withTimeout {
            try await withEgress(allowlist: target, resolver: StubResolver(["mock.test": ["127.0.0.1"]])) { proxy in
                let client = try await TunnelClient.open(proxy.endpoint)
                let reply = try await client.exchange(connectRequest(target)) { head, iterator, _, outbound in
                    #expect(head.statusLine == "HTTP/1.1 200 Connection established")
                    try await outbound.write(ByteBuffer(repeating: 1, count: 5000))
                    outbound.finish()
                    var bytes: [UInt8] = []
                    while let buffer = try await iterator.next() { bytes += buffer.readableBytesView }
                    return String(decoding: bytes, as: UTF8.self)
                }
                #expect(reply == "received 5000 bytes after your FIN")
            }
        }
    }

    /// 64 MiB each way through one tunnel, compared byte for byte against the sent stream.
    @Test func aLargeTransferArrivesIntact() async throws {
        let total = 64 << 20
        let stream = PatternStream()
        let upstream = try await TestServer.start(handle: echoHandler)
        defer { Task { await upstream.stop() } }
        let target = "mock.test:\(upstream.endpoint.port)"
        let metrics = ProxyMetrics()
        try await withTimeout(.seconds(240)) {
            try await withEgress(allowlist: target, resolver: StubResolver(["mock.test": ["127.0.0.1"]]), metrics: metrics) {
                proxy in
                let client = try await TunnelClient.open(proxy.endpoint)
                let (count, intact) = try await client.exchange(connectRequest(target)) { head, iterator, _, outbound in
                    #expect(head.statusLine == "HTTP/1.1 200 Connection established")
                    return try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            var offset = 0
                            while offset < total {
                                let count = min(128 * 1024, total - offset)
                                try await outbound.write(stream.chunk(at: offset, count: count))
                                offset += count
                            }
                            outbound.finish()
                        }
                        var received = 0
                        var intact = true
                        while let buffer = try await iterator.next() {
                            if intact && !stream.matches(buffer, at: received) { intact = false }
                            received += buffer.readableBytes
                        }
                        try await group.waitForAll()
                        return (received, intact)
                    }
                }
                #expect(count == total)
                #expect(intact)
                let text = metrics.text
                #expect(metricValue(text, "host_proxy_bytes_total", ["direction": "egress", "flow": "from_client"]) == Double(total))
                #expect(metricValue(text, "host_proxy_bytes_total", ["direction": "egress", "flow": "to_client"]) == Double(total))
                // Both directions at full speed, each bounded separately, plus the EOF drain of
                // one receive buffer at the end (see TunnelHandler).
                #expect(proxy.inFlight.peak <= 8 << 20, "egress buffered \(proxy.inFlight.peak) bytes")
            }
        }
    }

    /// 64 tunnels at once, each carrying its own slice of the pattern both ways.
    @Test func manyConcurrentTunnelsStayIndependent() async throws {
        let tunnels = 64
        let perTunnel = 256 * 1024
        let stream = PatternStream()
        let upstream = try await TestServer.start(handle: echoHandler)
        defer { Task { await upstream.stop() } }
        let target = "mock.test:\(upstream.endpoint.port)"
        try await withTimeout(.seconds(120)) {
            try await withEgress(allowlist: target, resolver: StubResolver(["mock.test": ["127.0.0.1"]])) { proxy in
                let results = try await withThrowingTaskGroup(of: Bool.self) { group in
                    for index in 0..<tunnels {
                        group.addTask {
                            let start = index * 7919
                            let client = try await TunnelClient.open(proxy.endpoint)
                            return try await client.exchange(connectRequest(target)) { head, iterator, _, outbound in
                                guard head.statusLine == "HTTP/1.1 200 Connection established" else { return false }
                                var offset = 0
                                while offset < perTunnel {
                                    let count = min(16 * 1024, perTunnel - offset)
                                    try await outbound.write(stream.chunk(at: start + offset, count: count))
                                    offset += count
                                }
                                outbound.finish()
                                var received = 0
                                var intact = true
                                while let buffer = try await iterator.next() {
                                    if intact && !stream.matches(buffer, at: start + received) { intact = false }
                                    received += buffer.readableBytes
                                }
                                return intact && received == perTunnel
                            }
                        }
                    }
                    var results: [Bool] = []
                    for try await result in group { results.append(result) }
                    return results
                }
                #expect(results.count == tunnels)
                #expect(results.allSatisfy { $0 })
                #expect(upstream.accepted == tunnels)
            }
        }
    }

    /// The client stops reading while the upstream keeps sending: egress must stall the upstream
    /// instead of buffering the download.
    @Test func aStalledClientBoundsWhatEgressBuffers() async throws {
        let total = 48 << 20
        let stream = PatternStream()
        let sent = SharedCount()
        let upstream = try await TestServer.start { inbound, outbound in
            var offset = 0
            while offset < total {
                let count = min(64 * 1024, total - offset)
                try await outbound.write(stream.chunk(at: offset, count: count))
                offset += count
                sent.store(offset)
            }
            outbound.finish()
            for try await _ in inbound {}  // until the client's FIN
        }
        defer { Task { await upstream.stop() } }
        let target = "mock.test:\(upstream.endpoint.port)"
        try await withTimeout(.seconds(120)) {
            try await withEgress(allowlist: target, resolver: StubResolver(["mock.test": ["127.0.0.1"]])) { proxy in
                let client = try await TunnelClient.open(proxy.endpoint)
                let (count, intact) = try await client.exchange(connectRequest(target)) { head, iterator, early, outbound in
                    #expect(head.statusLine == "HTTP/1.1 200 Connection established")
                    // Do not read; wait until the upstream cannot send any more.
                    var last = -1
                    var still = 0
                    for _ in 0..<400 where still < 5 {
                        try await Task.sleep(for: .milliseconds(100))
                        still = sent.current == last ? still + 1 : 0
                        last = sent.current
                    }
                    #expect(sent.current < total, "the upstream never stalled")
                    #expect(proxy.inFlight.peak <= 1 << 20, "egress buffered \(proxy.inFlight.peak) bytes")
                    var received = early.readableBytes
                    var intact = stream.matches(early, at: 0)
                    while let buffer = try await iterator.next() {
                        if intact && !stream.matches(buffer, at: received) { intact = false }
                        received += buffer.readableBytes
                    }
                    return (received, intact)
                }
                #expect(count == total)
                #expect(intact)
                // Once the upstream has sent its FIN, NIO drains that socket's receive buffer
                // regardless of backpressure (see TunnelHandler), so the bound after the stall
                // includes one kernel receive buffer (tcp_rmem max, 6 MiB by default).
                #expect(proxy.inFlight.peak <= 8 << 20, "egress buffered \(proxy.inFlight.peak) bytes")
            }
        }
    }
}
