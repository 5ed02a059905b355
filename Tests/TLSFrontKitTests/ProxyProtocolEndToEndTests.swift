import AsyncHTTPClient
import EnclaveIPC
import NIOCore
import NIOPosix
import Testing

@testable import TLSFrontKit

@Suite("PROXY protocol v2 in front of TLS", .serialized)
struct ProxyProtocolEndToEndTests {
    /// PROXY v2, TCP over IPv4, client 198.51.100.23:40000 → 10.0.0.1:443, with one ALPN TLV.
    static let header: [UInt8] =
        ProxyHeaderParser.signature + [0x21, 0x11, 0x00, 0x11]
        + [198, 51, 100, 23, 10, 0, 0, 1, 0x9C, 0x40, 0x01, 0xBB]
        + [0x01, 0x00, 0x02, 0x68, 0x31]

    @Test func clientAddressFromTheHeaderReachesTheWorker() async throws {
        try await FrontHarness.run(configure: { $0.proxyProtocol = true }) { harness in
            try await withRelay(to: harness.port, prefix: Self.header) { relayPort in
                var request = HTTPClientRequest(url: "https://127.0.0.1:\(relayPort)/v1/echo")
                request.method = .POST
                request.body = .bytes(ByteBuffer(string: "hi"))
                let (status, body, _) = try await harness.send(request)
                #expect(status == 200)
                #expect(body == "hi")
                #expect(harness.worker(0).lastHeaders.withLock { $0["x-forwarded-for"] } == "198.51.100.23")
            }
        }
    }

    @Test func connectionsWithoutAValidHeaderAreClosed() async throws {
        try await FrontHarness.run(configure: { $0.proxyProtocol = true }) { harness in
            // Plain TLS straight to the port: the ClientHello is no PROXY signature.
            await #expect(throws: (any Error).self) { try await harness.get("/health", timeout: .seconds(5)) }

            for prefix in [
                Array("PROXY TCP4 198.51.100.23 10.0.0.1 40000 443\r\n".utf8),  // v1 text header
                Array(Self.header.prefix(12)) + [0x31, 0x11, 0x00, 0x0C] + [UInt8](repeating: 0, count: 12),  // version 3
                Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8),
            ] {
                let answer = try await rawExchange(port: harness.port, bytes: prefix)
                #expect(answer.isEmpty, "the server must close without answering")
            }
        }
    }
}

/// Connects to 127.0.0.1:`port`, writes `bytes`, and returns what arrives before the server closes.
func rawExchange(port: Int, bytes: [UInt8]) async throws -> [UInt8] {
    let channel = try await Endpoint.tcp(host: "127.0.0.1", port: UInt16(port)).connect { channel in
        channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
    }
    return try await withTimeout(.seconds(5)) {
        try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(bytes: bytes))
            var received: [UInt8] = []
            do {
                for try await chunk in inbound { received += Array(buffer: chunk) }
            } catch {
                // A reset counts as closed too.
            }
            return received
        }
    }
}

/// A stand-in for host-proxy: listens on 127.0.0.1:0 and relays each connection to `port`
/// after writing `prefix` (the PROXY header) upstream.
func withRelay(to port: Int, prefix: [UInt8], _ body: @Sendable (Int) async throws -> Void) async throws {
    let listener = try await Endpoint.tcp(host: "127.0.0.1", port: 0).bind { channel in
        channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
    }
    guard case .tcp(_, let relayPort) = listener.endpoint.address else { return }
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            try await listener.channel.executeThenClose { connections in
                try await withThrowingDiscardingTaskGroup { relays in
                    for try await client in connections {
                        relays.addTask { try? await relay(client, to: port, prefix: prefix) }
                    }
                }
            }
        }
        try await body(Int(relayPort))
        group.cancelAll()
    }
}

private func relay(_ client: NIOAsyncChannel<ByteBuffer, ByteBuffer>, to port: Int, prefix: [UInt8]) async throws {
    let upstream = try await Endpoint.tcp(host: "127.0.0.1", port: UInt16(port)).connect { channel in
        channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
    }
    try await client.executeThenClose { clientIn, clientOut in
        try await upstream.executeThenClose { upstreamIn, upstreamOut in
            try await upstreamOut.write(ByteBuffer(bytes: prefix))
            try await withThrowingTaskGroup(of: Void.self) { pumps in
                pumps.addTask { for try await chunk in clientIn { try await upstreamOut.write(chunk) } }
                pumps.addTask { for try await chunk in upstreamIn { try await clientOut.write(chunk) } }
                try await pumps.next()
                pumps.cancelAll()
            }
        }
    }
}
