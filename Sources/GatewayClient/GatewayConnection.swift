import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Which TLS certificate a `GatewayConnection` accepts.
///
/// The gateway's certificate is self-signed inside the enclave: no CA vouches for it, the
/// attestation document does (its SHA-256 is in `user_data`). So there are two moments:
/// - `.attestationPending`: the first contact, which fetches the attestation itself. Any
///   certificate is accepted and captured; nothing read on this connection may be trusted until
///   `GatewayAttestation.verify` has checked that captured certificate against the document.
/// - `.pinned(sha256:)`: every later connection. The handshake fails unless the server's leaf
///   certificate hashes to the attested value, so no request byte reaches another server.
///
/// A third policy, `.webPKI`, is for hosts that are not the gateway (an OHTTP relay): the
/// system's CA roots and the host name decide, as for any HTTPS client.
public enum CertificatePolicy: Sendable, Hashable {
    case attestationPending
    case pinned(sha256: [UInt8])
    case webPKI
}

/// One TLS connection to a gateway carrying several requests one after another, reporting the
/// certificate the server presented on it.
///
/// Because all requests share this one connection, their answers and the captured certificate
/// come from the same TLS session: nothing can swap the server between them.
public struct GatewayConnection: Sendable {
    public struct Response: Sendable {
        public let status: UInt
        public let contentType: String?
        public let body: [UInt8]

        /// The start of the body, for error messages: enough to show the server's reason.
        public var snippet: String { String(decoding: body.prefix(200), as: UTF8.self) }
    }

    /// Bodies larger than this are refused (attestation, keys and answers are far smaller).
    public static let defaultMaxBodySize = 16 * 1024 * 1024

    public let endpoint: GatewayEndpoint
    public let policy: CertificatePolicy
    public let timeout: TimeAmount
    public let maxBodySize: Int

    public init(
        endpoint: GatewayEndpoint, policy: CertificatePolicy, timeout: TimeAmount = .seconds(60),
        maxBodySize: Int = defaultMaxBodySize
    ) {
        self.endpoint = endpoint
        self.policy = policy
        self.timeout = timeout
        self.maxBodySize = maxBodySize
    }

    /// Opens the connection, runs `body` (which sends its requests through the session), and
    /// returns the certificate the server presented, checked to be the same after the first
    /// answer and after the last.
    public func run<Result: Sendable>(
        _ body: (_ session: Session) async throws -> Result
    ) async throws -> (result: Result, servedCertificateDER: [UInt8]) {
        var tls = TLSConfiguration.makeClientConfiguration()
        // VERIFY_PEER with the policy below replacing CA and hostname checks (see the type
        // comment of `CertificatePolicy`); with `.none` NIOSSL would never call the policy.
        tls.certificateVerification = policy == .webPKI ? .fullVerification : .noHostnameVerification
        tls.applicationProtocols = ["http/1.1"]
        let context = try NIOSSLContext(configuration: tls)
        let sniHostname = endpoint.isIPAddress ? nil : endpoint.host
        let policy = policy

        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(timeout)
            .connect(host: endpoint.host, port: endpoint.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler: NIOSSLClientHandler
                    if policy == .webPKI {
                        handler = try NIOSSLClientHandler(context: context, serverHostname: sniHostname)
                    } else {
                        handler = try NIOSSLClientHandler(context: context, serverHostname: sniHostname) { certificates, promise in
                            promise.succeed(Self.accepts(certificates.first, policy: policy) ? .certificateVerified : .failed)
                        }
                    }
                    try channel.pipeline.syncOperations.addHandler(handler)
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                        wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            let session = Session(
                endpoint: endpoint, channel: channel.channel, inbound: inbound.makeAsyncIterator(), outbound: outbound,
                timeout: timeout, maxBodySize: maxBodySize)
            let result: Result
            do {
                result = try await body(session)
            } catch let error as NIOSSLError {
                throw Self.explain(error, policy: policy)
            }
            guard let certificate = try await Self.peerCertificateDER(of: channel.channel) else {
                throw GatewayFetchError.noPeerCertificate
            }
            if let first = session.firstCertificateDER, first != certificate {
                throw GatewayFetchError.certificateChanged
            }
            return (result, certificate)
        }
    }

    static func accepts(_ leaf: NIOSSLCertificate?, policy: CertificatePolicy) -> Bool {
        switch policy {
        case .attestationPending, .webPKI: return true
        case .pinned(let expected):
            guard let der = try? leaf?.toDERBytes() else { return false }
            return Array(SHA256.hash(data: der)) == expected
        }
    }

    private static func explain(_ error: NIOSSLError, policy: CertificatePolicy) -> any Error {
        guard case .pinned(let expected) = policy, case .handshakeFailed = error else { return error }
        return GatewayFetchError.certificateNotAttested(expectedSHA256: expected)
    }

    fileprivate static func peerCertificateDER(of channel: any Channel) async throws -> [UInt8]? {
        try await channel.nioSSL_peerCertificate().flatMapThrowing { try $0?.toDERBytes() }.get()
    }

    /// Sequential requests on the connection; not for concurrent use.
    public final class Session: @unchecked Sendable {
        public let endpoint: GatewayEndpoint
        private let channel: any Channel
        private var inbound: NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator
        private let outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>
        private let timeout: TimeAmount
        private let maxBodySize: Int
        fileprivate var firstCertificateDER: [UInt8]?

        fileprivate init(
            endpoint: GatewayEndpoint, channel: any Channel,
            inbound: NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator,
            outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>, timeout: TimeAmount, maxBodySize: Int
        ) {
            self.endpoint = endpoint
            self.channel = channel
            self.inbound = inbound
            self.outbound = outbound
            self.timeout = timeout
            self.maxBodySize = maxBodySize
        }

        public func get(_ path: String, accept: String) async throws -> Response {
            try await send("GET", path, accept: accept, contentType: nil, body: nil)
        }

        /// A JSON body posted on the same connection (and so to the same certificate).
        public func post(_ path: String, json body: [UInt8]) async throws -> Response {
            try await send("POST", path, accept: "application/json", contentType: "application/json", body: body)
        }

        /// Any request; the whole answer is read into memory (up to the connection's limit).
        public func send(
            _ method: String, _ path: String, accept: String, contentType: String?, body requestBody: [UInt8]?,
            headers extraHeaders: [(String, String)] = []
        ) async throws -> Response {
            var collected: [UInt8] = []
            let head = try await stream(
                method, path, accept: accept, contentType: contentType, body: requestBody, headers: extraHeaders
            ) { chunk in
                guard collected.count + chunk.count <= maxBodySize else {
                    throw GatewayFetchError.bodyTooLarge(path: path, limit: maxBodySize)
                }
                collected += chunk
            }
            return Response(status: head.status, contentType: head.contentType, body: collected)
        }

        /// Sends a request and hands each body chunk to `onChunk` as it arrives, so a streamed
        /// answer (SSE, chunked OHTTP) can be processed before it ends. Returns the status and
        /// content type once the answer is complete.
        public func stream(
            _ method: String, _ path: String, accept: String, contentType: String?, body requestBody: [UInt8]?,
            headers extraHeaders: [(String, String)] = [],
            onHead: (_ status: UInt, _ contentType: String?) async throws -> Void = { _, _ in },
            onChunk: (_ chunk: [UInt8]) async throws -> Void
        ) async throws -> (status: UInt, contentType: String?) {
            var headers = HTTPHeaders()
            headers.add(name: "Host", value: endpoint.hostHeader)
            headers.add(name: "Accept", value: accept)
            headers.add(name: "User-Agent", value: "gateway-client")
            for (name, value) in extraHeaders { headers.add(name: name, value: value) }
            if let requestBody {
                headers.add(name: "Content-Type", value: contentType ?? "application/octet-stream")
                headers.add(name: "Content-Length", value: String(requestBody.count))
            }
            let method = HTTPMethod(rawValue: method)
            try await outbound.write(.head(HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: headers)))
            if let requestBody { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: requestBody)))) }
            try await outbound.write(.end(nil))

            var head: HTTPResponseHead?
            while let part = try await inbound.next() {
                switch part {
                case .head(let received):
                    head = received
                    try await onHead(received.status.code, received.headers.first(name: "content-type"))
                    if firstCertificateDER == nil {
                        firstCertificateDER = try await GatewayConnection.peerCertificateDER(of: channel)
                    }
                case .body(let buffer):
                    try await onChunk(Array(buffer.readableBytesView))
                case .end:
                    guard let head else { throw GatewayFetchError.connectionClosed(path: path) }
                    return (head.status.code, head.headers.first(name: "content-type"))
                }
            }
            throw GatewayFetchError.connectionClosed(path: path)
        }
    }
}

/// `https://HOST[:PORT]`, nothing else: the client appends the gateway's fixed paths itself.
public struct GatewayEndpoint: Sendable, Hashable, CustomStringConvertible {
    public let host: String
    public let port: Int

    public init(parsing text: String) throws(GatewayFetchError) {
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

    public var isIPAddress: Bool { (try? SocketAddress(ipAddress: host, port: port)) != nil }

    public var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == 443 ? name : "\(name):\(port)"
    }

    public var description: String { "https://\(hostHeader)" }
}

/// Talking to the gateway failed before anything could be verified.
public enum GatewayFetchError: Error, Sendable, CustomStringConvertible {
    case invalidURL(String, reason: String)
    case noPeerCertificate
    case certificateChanged
    /// The pinned policy refused the server's certificate: it is not the one the attestation bound.
    case certificateNotAttested(expectedSHA256: [UInt8])
    case connectionClosed(path: String)
    case bodyTooLarge(path: String, limit: Int)
    case httpStatus(path: String, status: UInt, body: String)
    case unexpectedBody(path: String, reason: String)

    public var description: String {
        switch self {
        case .invalidURL(let url, let reason): "invalid --url '\(url)': \(reason)"
        case .noPeerCertificate: "the server presented no TLS certificate"
        case .certificateChanged: "the server's TLS certificate changed during the connection"
        case .certificateNotAttested(let expected):
            "TLS certificate check failed: the server's certificate is not the attested one (sha256 "
                + Data(expected).map { String(format: "%02x", $0) }.joined() + "); re-attest the gateway"
        case .connectionClosed(let path): "the server closed the connection before answering \(path)"
        case .bodyTooLarge(let path, let limit): "\(path): body larger than \(limit) bytes"
        case .httpStatus(let path, let status, let body): "\(path): HTTP \(status): \(body)"
        case .unexpectedBody(let path, let reason): "\(path): \(reason)"
        }
    }
}
