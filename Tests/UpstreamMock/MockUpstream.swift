import GatewayCore
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A provider stand-in on 127.0.0.1 with an OS-assigned port: answers each request with the next
/// scripted reply, written piece by piece, and records what it received.
///
/// Shared by the Providers and WorkerKit tests (a library target, since test targets cannot
/// import each other).
public final class MockUpstream: Sendable {
    public struct Reply: Sendable {
        public enum Piece: Sendable {
            case bytes(String)
            case pause(Duration)
            /// Close the connection without finishing the response.
            case disconnect
            /// Send nothing more; wait until the client closes the connection.
            case hang
            /// Wait until the test calls `release()`, so a test can act between two pieces.
            case awaitRelease
        }

        public var status = 200
        public var headers: [(String, String)] = [("content-type", "text/event-stream")]
        public var pieces: [Piece]

        public init(status: Int = 200, headers: [(String, String)] = [("content-type", "text/event-stream")], pieces: [Piece]) {
            self.status = status
            self.headers = headers
            self.pieces = pieces
        }

        public static func sse(_ events: [String], then ending: [Piece] = []) -> Reply {
            Reply(pieces: events.map { .bytes($0) } + ending)
        }

        public static func json(status: Int, _ body: String, headers: [(String, String)] = []) -> Reply {
            Reply(status: status, headers: [("content-type", "application/json")] + headers, pieces: [.bytes(body)])
        }
    }

    public struct Request: Sendable {
        public var method: String
        public var uri: String
        public var headers: [(String, String)]
        public var body: [UInt8]

        public func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name }?.1 }

        public var json: JSONValue {
            get throws { try JSONParser().parse(body) }
        }
    }

    private struct State {
        var replies: [Reply]
        var requests: [Request] = []
        var clientClosedHungConnection = false
        var released = false
    }

    public let port: Int
    private let state: Mutex<State>
    private let server: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>
    private let serverTask: Mutex<Task<Void, Never>?> = Mutex(nil)

    public var baseURL: String { "http://127.0.0.1:\(port)" }
    public var requests: [Request] { state.withLock { $0.requests } }
    public var clientClosedHungConnection: Bool { state.withLock { $0.clientClosedHungConnection } }

    private init(port: Int, replies: [Reply], server: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>) {
        self.port = port
        self.server = server
        state = Mutex(State(replies: replies))
    }

    public static func start(_ replies: [Reply]) async throws -> MockUpstream {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel)
                }
            }
        guard let port = server.channel.localAddress?.port else { throw MockError.noPort }
        let mock = MockUpstream(port: port, replies: replies, server: server)
        let task = Task<Void, Never> {
            _ = try? await server.executeThenClose { connections in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in connections {
                        group.addTask { try? await mock.serve(connection) }
                    }
                }
            }
        }
        mock.serverTask.withLock { $0 = task }
        return mock
    }

    public enum MockError: Error { case noPort }

    /// Lets every reply waiting at `.awaitRelease` continue.
    public func release() { state.withLock { $0.released = true } }

    public func stop() async {
        try? await server.channel.close()
        _ = await serverTask.withLock { $0 }?.value
    }

    /// Polls until the client has closed a connection left hanging, or the timeout passes.
    public func waitForClientClose(timeout: Duration = .seconds(5)) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if clientClosedHungConnection { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return clientClosedHungConnection
    }

    private func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async throws {
        // Every part is written with the channel's own future, which completes once the bytes
        // are in the socket: `.disconnect` must close after the pieces before it are on the wire,
        // or the close races them and the client sees less than the script sent.
        let channel = connection.channel
        func send(_ part: HTTPServerResponsePart) async throws { try await channel.writeAndFlush(part).get() }
        try await connection.executeThenClose { inbound, _ in
            var parts = inbound.makeAsyncIterator()
            while true {
                var head: HTTPRequestHead?
                var body: [UInt8] = []
                reading: while let part = try await parts.next() {
                    switch part {
                    case .head(let h): head = h
                    case .body(let buffer): body += buffer.readableBytesView
                    case .end: break reading
                    }
                }
                guard let head else { return }
                let reply = state.withLock { state in
                    state.requests.append(Request(method: head.method.rawValue, uri: head.uri, headers: head.headers.map { ($0.name, $0.value) }, body: body))
                    return state.replies.isEmpty ? Reply.json(status: 500, #"{"error":{"message":"no scripted reply"}}"#) : state.replies.removeFirst()
                }
                var headers = HTTPHeaders(reply.headers)
                headers.add(name: "transfer-encoding", value: "chunked")
                try await send(.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: reply.status), headers: headers)))
                for piece in reply.pieces {
                    switch piece {
                    case .bytes(let text): try await send(.body(.byteBuffer(ByteBuffer(string: text))))
                    case .pause(let duration): try await Task.sleep(for: duration)
                    case .disconnect: return
                    case .awaitRelease:
                        while !state.withLock({ $0.released }) { try await Task.sleep(for: .milliseconds(10)) }
                    case .hang:
                        do { while try await parts.next() != nil {} } catch {}
                        state.withLock { $0.clientClosedHungConnection = true }
                        return
                    }
                }
                try await send(.end(nil))
            }
        }
    }
}

/// SSE framing helpers for scripting replies.
public func sse(_ data: String) -> String { "data: \(data)\n\n" }
public func sse(event: String, _ data: String) -> String { "event: \(event)\ndata: \(data)\n\n" }
