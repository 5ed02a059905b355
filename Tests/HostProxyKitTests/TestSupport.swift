import EnclaveIPC
import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import HostProxyKit

typealias ByteChannel = NIOAsyncChannel<ByteBuffer, ByteBuffer>

/// `tcp://127.0.0.1:0`: a free loopback port chosen by the OS at bind time.
func loopback() throws -> Endpoint {
    try Endpoint.tcp(host: "127.0.0.1", port: 0)
}

extension Endpoint {
    /// The TCP port of a bound loopback endpoint (0 for other kinds).
    var port: UInt16 {
        if case .tcp(_, let port) = address { return port }
        return 0
    }
}

/// A fresh temporary directory for Unix sockets, short enough for `sun_path`.
func temporaryDirectory() throws -> String {
    var template = Array("/tmp/hpk.XXXXXX".utf8CString)
    let result = template.withUnsafeMutableBufferPointer { $0.baseAddress.flatMap { mkdtemp($0) } }
    try #require(result != nil, "mkdtemp failed: errno \(errno)")
    return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Connects a byte channel with half-closure enabled, so tests can finish their writing side and
/// still read.
func connect(_ endpoint: Endpoint) async throws -> ByteChannel {
    try await endpoint.connect { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.syncOptions?.setOption(.allowRemoteHalfClosure, value: true)
            return try ByteChannel(
                wrappingChannelSynchronously: channel,
                configuration: .init(isOutboundHalfClosureEnabled: true)
            )
        }
    }
}

/// A loopback server running `handle` for each connection, counting the connections it accepted.
final class TestServer: Sendable {
    let endpoint: Endpoint
    private let listener: Listener<ByteChannel>
    private let task: Task<Void, Never>
    private let counter: AcceptCounter

    /// Connections accepted so far.
    var accepted: Int { counter.value }

    private init(listener: Listener<ByteChannel>, handle: @escaping Handler, counter: AcceptCounter) {
        self.endpoint = listener.endpoint
        self.listener = listener
        self.counter = counter
        self.task = Task { [listener] in
            try? await listener.channel.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in inbound {
                        group.addTask {
                            try? await connection.executeThenClose { inbound, outbound in
                                try await handle(inbound, outbound)
                                // executeThenClose closes at once, and NIO turns a write shutdown
                                // after the peer's EOF into a full close: both drop queued
                                // writes. So wait until they are written (writes complete in
                                // order), then finish and wait for the peer to close.
                                try await connection.channel.writeAndFlush(ByteBuffer())
                                outbound.finish()
                                try await withTimeout(.seconds(60)) {
                                    try await connection.channel.closeFuture.get()
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    typealias Handler =
        @Sendable (
            NIOAsyncChannelInboundStream<ByteBuffer>, NIOAsyncChannelOutboundWriter<ByteBuffer>
        ) async throws -> Void

    static func start(on endpoint: Endpoint? = nil, handle: @escaping Handler) async throws -> TestServer {
        let counter = AcceptCounter()
        let listener: Listener<ByteChannel> = try await (endpoint ?? loopback()).bind { channel in
            counter.increment()
            return channel.eventLoop.makeCompletedFuture {
                try channel.syncOptions?.setOption(.allowRemoteHalfClosure, value: true)
                return try ByteChannel(
                    wrappingChannelSynchronously: channel,
                    configuration: .init(isOutboundHalfClosureEnabled: true)
                )
            }
        }
        let server = TestServer(listener: listener, handle: handle, counter: counter)
        return server
    }

    func stop() async {
        task.cancel()
        try? await listener.channel.channel.close()
        await task.value
    }
}

final class AcceptCounter: Sendable {
    private let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
    func increment() { count.withLock { $0 += 1 } }
}

/// Echo: writes back everything it reads. `TestServer` half-closes once those writes are on the
/// wire; finishing here would half-close after the peer's EOF, which NIO turns into a full close
/// that drops the writes still queued (the tail of a large echo).
func echoHandler(
    _ inbound: NIOAsyncChannelInboundStream<ByteBuffer>,
    _ outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
) async throws {
    for try await buffer in inbound {
        try await outbound.write(buffer)
    }
}

/// Reads everything from `inbound` until EOF (bounded by `limit`).
func readAll(_ inbound: NIOAsyncChannelInboundStream<ByteBuffer>, limit: Int = 1 << 27) async throws -> [UInt8] {
    var bytes: [UInt8] = []
    for try await buffer in inbound {
        bytes += buffer.readableBytesView
        if bytes.count > limit { break }
    }
    return bytes
}

/// Runs `body` with a timeout so a hung proxy fails the test instead of hanging the suite.
func withTimeout<T: Sendable>(
    _ timeout: Duration = .seconds(30),
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            throw TestTimeout(timeout: timeout)
        }
        defer { group.cancelAll() }
        guard let result = try await group.next() else { throw TestTimeout(timeout: timeout) }
        return result
    }
}

struct TestTimeout: Error, CustomStringConvertible {
    let timeout: Duration
    var description: String { "the test did not finish within \(timeout)" }
}

/// Runs a server's `run()` in the background for the duration of `body`, then stops it.
func serving<Server: Sendable, T: Sendable>(
    _ server: Server,
    run: @escaping @Sendable (Server) async throws -> Void,
    close: @escaping @Sendable (Server) async -> Void,
    _ body: () async throws -> T
) async throws -> T {
    let task = Task { try await run(server) }
    do {
        let result = try await body()
        await close(server)
        task.cancel()
        _ = await task.result
        return result
    } catch {
        await close(server)
        task.cancel()
        _ = await task.result
        throw error
    }
}

/// A deterministic byte stream: byte k is `pattern[k % pattern.count]`. The period is prime,
/// so it never lines up with buffer sizes; a lost, duplicated or reordered chunk shifts the
/// stream and the byte-for-byte comparison fails.
struct PatternStream: Sendable {
    let pattern: [UInt8]

    init(seed: UInt64 = 0x9E37_79B9_7F4A_7C15, period: Int = 65_521) {
        var state = seed
        var pattern = [UInt8](repeating: 0, count: period)
        for index in 0..<period {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            pattern[index] = UInt8(truncatingIfNeeded: state)
        }
        self.pattern = pattern
    }

    /// `count` bytes starting at stream offset `offset`.
    func chunk(at offset: Int, count: Int) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(count)
        var position = offset % pattern.count
        var remaining = count
        while remaining > 0 {
            let take = min(remaining, pattern.count - position)
            buffer.writeBytes(pattern[position..<(position + take)])
            remaining -= take
            position = 0
        }
        return buffer
    }

    /// Whether `buffer` equals the stream at `offset`.
    func matches(_ buffer: ByteBuffer, at offset: Int) -> Bool {
        buffer.readableBytesView.withUnsafeBytes { received in
            guard let receivedBase = received.baseAddress else { return received.isEmpty }
            var position = offset % pattern.count
            var checked = 0
            while checked < received.count {
                let take = min(received.count - checked, pattern.count - position)
                let equal = pattern.withUnsafeBufferPointer { expected in
                    expected.baseAddress.map { memcmp(receivedBase + checked, $0 + position, take) == 0 } ?? false
                }
                if !equal { return false }
                checked += take
                position = 0
            }
            return true
        }
    }
}

/// A value one task sets and another reads once it is there.
final class Captured<Value: Sendable>: Sendable {
    private let value = Mutex<Value?>(nil)

    func set(_ newValue: Value) { value.withLock { $0 = newValue } }
    var current: Value? { value.withLock { $0 } }

    /// Polls until the value is set (bounded by `timeout`).
    func wait(timeout: Duration = .seconds(10)) async throws -> Value {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let current { return current }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestTimeout(timeout: timeout)
    }
}

/// Opens once `open()` is called; `wait()` suspends until then.
final class Gate: Sendable {
    private let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init() {
        (stream, continuation) = AsyncStream.makeStream()
    }

    func open() { continuation.finish() }

    func wait() async {
        for await _ in stream {}
    }
}

/// The value of one Prometheus series in `text`, matched by name and every given label.
func metricValue(_ text: String, _ name: String, _ labels: [String: String]) -> Double? {
    for line in text.split(separator: "\n") where line.hasPrefix(name + "{") {
        let matchesLabels = labels.allSatisfy { key, value in line.contains("\(key)=\"\(value)\"") }
        if matchesLabels, let value = line.split(separator: " ").last.flatMap({ Double($0) }) {
            return value
        }
    }
    return nil
}

extension ProxyMetrics {
    var text: String { String(decoding: exposition(), as: UTF8.self) }
}

/// An integer shared between tasks.
final class SharedCount: Sendable {
    private let value = Atomic<Int>(0)
    var current: Int { value.load(ordering: .relaxed) }
    func store(_ newValue: Int) { value.store(newValue, ordering: .relaxed) }
}
