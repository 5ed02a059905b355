import EnclaveIPC
import NIOCore
import Synchronization
import Testing

@testable import HostProxyKit

/// A resolver with a fixed table, so rebinding cases (a name that resolves to a private or
/// metadata address) are reproducible and no real DNS is ever asked.
final class StubResolver: Resolver {
    private let table: [String: [String]]
    private let calls = Mutex<[String]>([])

    /// `table` maps names to IP literals; the requested port is attached to each.
    init(_ table: [String: [String]]) {
        self.table = table
    }

    var resolved: [String] { calls.withLock { $0 } }

    func resolve(host: String, port: UInt16) async throws -> [SocketAddress] {
        calls.withLock { $0.append(host) }
        guard let addresses = table[host] else { throw StubResolverError.unknown(host) }
        return try addresses.map { try SocketAddress(ipAddress: $0, port: Int(port)) }
    }
}

enum StubResolverError: Error { case unknown(String) }

/// An HTTP response head read from a tunnel, and the bytes that followed it in the same reads.
struct ResponseHead {
    var statusLine: String
    var text: String
}

/// A client of the egress proxy: sends a request head, reads the response head, and keeps the
/// same inbound iterator for the tunnelled bytes.
struct TunnelClient {
    let channel: ByteChannel

    static func open(_ endpoint: Endpoint) async throws -> TunnelClient {
        TunnelClient(channel: try await connect(endpoint))
    }

    /// Sends `request` raw, returns the response head (up to the blank line) and keeps reading
    /// through `body` with what remains.
    func exchange<T: Sendable>(
        _ request: String,
        _ body: (ResponseHead, inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator, ByteBuffer,
            NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws -> T
    ) async throws -> T {
        try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: request))
            var iterator = inbound.makeAsyncIterator()
            var received = ByteBuffer()
            while true {
                let view = Array(received.readableBytesView)
                if let end = RequestHeadParser.endOfHead(in: view) {
                    let text = String(decoding: view[..<end], as: UTF8.self)
                    received.moveReaderIndex(forwardBy: end)
                    let statusLine = String(text.prefix { $0 != "\r\n" })
                    return try await body(ResponseHead(statusLine: statusLine, text: text), &iterator, received, outbound)
                }
                guard var next = try await iterator.next() else {
                    let text = String(decoding: view, as: UTF8.self)
                    return try await body(ResponseHead(statusLine: "(closed) " + text, text: text), &iterator, received, outbound)
                }
                received.writeBuffer(&next)
                try #require(received.readableBytes < 65_536, "response head too large")
            }
        }
    }

    /// Sends `request` and returns only the status line of the answer, reading to EOF.
    func statusLine(for request: String) async throws -> String {
        try await exchange(request) { head, iterator, _, _ in
            while try await iterator.next() != nil {}
            return head.statusLine
        }
    }
}

/// An egress proxy on loopback for the duration of `body`.
func withEgress<T: Sendable>(
    allowlist: String,
    resolver: StubResolver,
    policy: AddressPolicy = AddressPolicy(allowLoopback: true),
    listen: Endpoint? = nil,
    maxConnections: Int = 256,
    limits: TunnelLimits = TunnelLimits(),
    metrics: ProxyMetrics = ProxyMetrics(),
    requestTimeout: Duration = .seconds(10),
    _ body: (EgressProxy) async throws -> T
) async throws -> T {
    let proxy = try await EgressProxy.bind(
        EgressConfiguration(
            listen: try listen ?? loopback(),
            allowlist: try Allowlist(parsing: allowlist),
            addressPolicy: policy,
            maxConnections: maxConnections,
            limits: limits,
            connectTimeout: .seconds(2),
            requestTimeout: requestTimeout
        ),
        resolver: resolver,
        metrics: metrics
    )
    return try await serving(proxy, run: { try await $0.run() }, close: { await $0.close() }) {
        try await body(proxy)
    }
}

func connectRequest(_ target: String) -> String {
    "CONNECT \(target) HTTP/1.1\r\nHost: \(target)\r\n\r\n"
}
