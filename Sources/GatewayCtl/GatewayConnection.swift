import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// One TLS connection to a gateway that sends several GETs one after another and reports the
/// certificate the server presented on it.
///
/// The gateway's certificate is self-signed: no CA vouches for it, attestation does (its hash
/// is in `user_data`). So the handshake accepts any certificate, and every answer read here is
/// only as trustworthy as the attestation check of `servedCertificateDER` that must follow.
/// Because all requests share this one connection, the bodies and the captured certificate
/// come from the same TLS session: nothing can swap the server between them.
struct GatewayConnection {
    struct Response {
        let status: UInt
        let contentType: String?
        let body: [UInt8]
    }

    /// Bodies larger than this are refused: every body fetched here is a few KiB.
    static let maxBodySize = 1024 * 1024

    let endpoint: GatewayEndpoint
    let timeout: TimeAmount

    init(endpoint: GatewayEndpoint, timeout: TimeAmount = .seconds(20)) {
        self.endpoint = endpoint
        self.timeout = timeout
    }

    /// Opens the connection, runs `body` (which sends its GETs through the session), and
    /// returns the certificate the server presented, checked to be the same after the first
    /// answer and after the last.
    func run<Result: Sendable>(
        _ body: (_ session: Session) async throws -> Result
    ) async throws -> (result: Result, servedCertificateDER: [UInt8]) {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none  // see the type comment: attestation pins it instead
        tls.applicationProtocols = ["http/1.1"]
        let context = try NIOSSLContext(configuration: tls)
        let sniHostname = endpoint.isIPAddress ? nil : endpoint.host

        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(timeout)
            .connect(host: endpoint.host, port: endpoint.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = try NIOSSLClientHandler(context: context, serverHostname: sniHostname)
                    try channel.pipeline.syncOperations.addHandler(handler)
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                        wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            let session = Session(
                endpoint: endpoint, channel: channel.channel, inbound: inbound.makeAsyncIterator(), outbound: outbound)
            let result = try await body(session)
            guard let certificate = try await Self.peerCertificateDER(of: channel.channel) else {
                throw GatewayFetchError.noPeerCertificate
            }
            if let first = session.firstCertificateDER, first != certificate {
                throw GatewayFetchError.certificateChanged
            }
            return (result, certificate)
        }
    }

    fileprivate static func peerCertificateDER(of channel: any Channel) async throws -> [UInt8]? {
        try await channel.nioSSL_peerCertificate().flatMapThrowing { try $0?.toDERBytes() }.get()
    }

    /// Sequential requests on the connection; not for concurrent use.
    final class Session {
        let endpoint: GatewayEndpoint
        private let channel: any Channel
        private var inbound: NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator
        private let outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>
        fileprivate var firstCertificateDER: [UInt8]?

        fileprivate init(
            endpoint: GatewayEndpoint, channel: any Channel,
            inbound: NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator,
            outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>
        ) {
            self.endpoint = endpoint
            self.channel = channel
            self.inbound = inbound
            self.outbound = outbound
        }

        func get(_ path: String, accept: String) async throws -> Response {
            try await send(.GET, path, accept: accept, body: nil)
        }

        /// A JSON body posted on the same connection (and so to the same certificate).
        func post(_ path: String, json body: [UInt8]) async throws -> Response {
            try await send(.POST, path, accept: "application/json", body: body)
        }

        private func send(_ method: HTTPMethod, _ path: String, accept: String, body requestBody: [UInt8]?) async throws -> Response {
            var headers = HTTPHeaders()
            headers.add(name: "Host", value: endpoint.hostHeader)
            headers.add(name: "Accept", value: accept)
            headers.add(name: "User-Agent", value: "gatewayctl")
            if let requestBody {
                headers.add(name: "Content-Type", value: "application/json")
                headers.add(name: "Content-Length", value: String(requestBody.count))
            }
            try await outbound.write(.head(HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: headers)))
            if let requestBody { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: requestBody)))) }
            try await outbound.write(.end(nil))

            var head: HTTPResponseHead?
            var body: [UInt8] = []
            while let part = try await inbound.next() {
                switch part {
                case .head(let received): head = received
                case .body(let buffer):
                    guard body.count + buffer.readableBytes <= GatewayConnection.maxBodySize else {
                        throw GatewayFetchError.bodyTooLarge(path: path, limit: GatewayConnection.maxBodySize)
                    }
                    body += buffer.readableBytesView
                case .end:
                    guard let head else { throw GatewayFetchError.connectionClosed(path: path) }
                    if firstCertificateDER == nil {
                        firstCertificateDER = try await GatewayConnection.peerCertificateDER(of: channel)
                    }
                    return Response(status: head.status.code, contentType: head.headers.first(name: "content-type"), body: body)
                }
            }
            throw GatewayFetchError.connectionClosed(path: path)
        }

    }
}

/// `https://HOST[:PORT]`, nothing else: the tool appends the gateway's fixed paths itself.
struct GatewayEndpoint: Sendable, CustomStringConvertible {
    let host: String
    let port: Int

    init(parsing text: String) throws(GatewayFetchError) {
        guard let components = URLComponents(string: text), components.scheme?.lowercased() == "https",
            var host = components.host, !host.isEmpty
        else { throw .invalidURL(text, reason: "expected https://HOST[:PORT]") }
        guard components.path.isEmpty || components.path == "/", components.query == nil, components.user == nil
        else { throw .invalidURL(text, reason: "give only scheme, host and port; the paths are fixed") }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let port = components.port ?? 443
        guard (1...65535).contains(port) else { throw .invalidURL(text, reason: "port \(port) is out of range") }
        self.host = host
        self.port = port
    }

    var isIPAddress: Bool { (try? SocketAddress(ipAddress: host, port: port)) != nil }

    var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == 443 ? name : "\(name):\(port)"
    }

    var description: String { "https://\(hostHeader)" }
}

enum GatewayFetchError: Error, CustomStringConvertible {
    case invalidURL(String, reason: String)
    case noPeerCertificate
    case certificateChanged
    case connectionClosed(path: String)
    case bodyTooLarge(path: String, limit: Int)
    case httpStatus(path: String, status: UInt, body: String)
    case unexpectedBody(path: String, reason: String)

    var description: String {
        switch self {
        case .invalidURL(let url, let reason): "invalid --url '\(url)': \(reason)"
        case .noPeerCertificate: "the server presented no TLS certificate"
        case .certificateChanged: "the server's TLS certificate changed during the connection"
        case .connectionClosed(let path): "the server closed the connection before answering GET \(path)"
        case .bodyTooLarge(let path, let limit): "GET \(path): body larger than \(limit) bytes"
        case .httpStatus(let path, let status, let body): "GET \(path): HTTP \(status): \(body)"
        case .unexpectedBody(let path, let reason): "GET \(path): \(reason)"
        }
    }
}
