import Foundation
import GatewayCore
import NIOCore
import NIOHTTP1
import NIOPosix

/// A minimal HTTP/1.1 client over a Unix socket, one connection per request, so tests control
/// exactly what goes on the wire (declared vs chunked bodies) and when the connection closes.
struct UnixHTTPClient: Sendable {
    typealias Connection = NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>

    enum Body: Sendable {
        case none
        /// Sent with `content-length`.
        case bytes([UInt8])
        /// Sent with `transfer-encoding: chunked`, one chunk per element.
        case chunked([[UInt8]])

        static func json(_ text: String) -> Body { .bytes(Array(text.utf8)) }
    }

    let socketPath: String

    func connect() async throws -> Connection {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(unixDomainSocketPath: socketPath) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try Connection(wrappingChannelSynchronously: channel)
                }
            }
    }

    /// Sends one request and reads the whole response.
    func send(
        _ method: HTTPMethod, _ path: String, body: Body = .none, contentType: String? = "application/json"
    ) async throws -> HTTPReply {
        try await exchange(method, path, body: body, contentType: contentType) { head, parts in
            var bytes: [UInt8] = []
            while let part = try await parts.next() {
                switch part {
                case .head: throw ClientError.unexpectedPart("a second response head")
                case .body(let buffer): bytes += buffer.readableBytesView
                case .end: return HTTPReply(head: head, body: bytes)
                }
            }
            throw ClientError.unexpectedPart("end of connection before the response ended")
        }
    }

    /// Sends one request, hands the response head and the body parts to `read`, and closes the
    /// connection when `read` returns (whether or not the response was complete).
    func exchange<T: Sendable>(
        _ method: HTTPMethod, _ path: String, body: Body = .none, contentType: String? = "application/json",
        _ read: (HTTPResponseHead, inout NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator)
            async throws -> T
    ) async throws -> T {
        let connection = try await connect()
        return try await connection.executeThenClose { inbound, outbound in
            var headers = HTTPHeaders([("host", "worker")])
            if let contentType { headers.add(name: "content-type", value: contentType) }
            switch body {
            case .none: headers.add(name: "content-length", value: "0")
            case .bytes(let bytes): headers.add(name: "content-length", value: String(bytes.count))
            case .chunked: headers.add(name: "transfer-encoding", value: "chunked")
            }
            try await outbound.write(
                .head(HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: headers)))
            switch body {
            case .none: break
            case .bytes(let bytes): try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: bytes))))
            case .chunked(let chunks):
                for chunk in chunks { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: chunk)))) }
            }
            try await outbound.write(.end(nil))
            var parts = inbound.makeAsyncIterator()
            guard case .head(let head) = try await parts.next() else {
                throw ClientError.unexpectedPart("no response head")
            }
            return try await read(head, &parts)
        }
    }

    /// Polls until the worker accepts connections (its socket exists once `run` has bound it).
    func waitUntilListening(timeout: Duration = .seconds(20)) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            do {
                let connection = try await connect()
                try await connection.executeThenClose { _, _ in }
                return
            } catch {
                guard clock.now < deadline else { throw ClientError.notListening(socketPath, "\(error)") }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    enum ClientError: Error, CustomStringConvertible {
        case unexpectedPart(String)
        case notListening(String, String)

        var description: String {
            switch self {
            case .unexpectedPart(let what): "unexpected HTTP response: \(what)"
            case .notListening(let path, let error): "nothing accepted connections on \(path): \(error)"
            }
        }
    }
}

/// A complete response.
struct HTTPReply: Sendable {
    let head: HTTPResponseHead
    let body: [UInt8]

    var status: Int { Int(head.status.code) }
    func header(_ name: String) -> String? { head.headers.first(name: name) }
    var text: String { String(decoding: body, as: UTF8.self) }

    /// The body parsed with Foundation, independently of the gateway's own JSON code.
    var json: [String: Any] {
        get throws {
            guard let object = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
                throw TestFailure("the body is not a JSON object: \(text)")
            }
            return object
        }
    }

    /// `data:` payloads of a server-sent event stream, in order (the `event:` lines are names only).
    var sseData: [String] { SSEFrames.data(in: text) }
}

enum SSEFrames {
    static func data(in text: String) -> [String] {
        text.components(separatedBy: "\n\n").compactMap { frame in
            frame.split(separator: "\n").first { $0.hasPrefix("data: ") }.map { String($0.dropFirst(6)) }
        }
    }

    static func events(in text: String) -> [String] {
        text.components(separatedBy: "\n\n").compactMap { frame in
            frame.split(separator: "\n").first { $0.hasPrefix("event: ") }.map { String($0.dropFirst(7)) }
        }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
