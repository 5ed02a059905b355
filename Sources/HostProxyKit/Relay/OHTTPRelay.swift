import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOSSL

/// An Oblivious HTTP relay (RFC 9458 §6): clients post encapsulated requests here and the relay
/// forwards them to the gateway, so the gateway never learns who asked and the relay never
/// learns what was asked.
///
/// It forwards only `POST` bodies of `message/ohttp-req` and `message/ohttp-chunked-req` to the
/// gateway's `/v1/ohttp`, with nothing of the client but the body and its content type: no
/// client address, no `Forwarded`/`X-Forwarded-For`, no cookies or auth, none of the client's
/// other headers. The gateway's answer (status, content type, body, streamed chunk by chunk)
/// comes back unchanged. Everything else gets 4xx. Bodies are never logged.
public struct OHTTPRelay: Sendable {
    /// The gateway's `/v1/ohttp` refuses larger encapsulated requests too (ARCHITECTURE §8).
    public static let maxBodySize = 512 * 1024
    public static let requestTypes: Set<String> = ["message/ohttp-req", "message/ohttp-chunked-req"]
    /// The paths clients may post to: the relay resource.
    public static let resourcePaths: Set<String> = ["/", "/v1/ohttp"]

    public let gatewayURL: String
    public let logger: Logger

    /// `gateway` is `https://HOST[:PORT]` (or with an explicit path, used as is).
    public init(gateway: String, logger: Logger) throws(RelayConfigurationError) {
        guard let components = URLComponents(string: gateway), let scheme = components.scheme?.lowercased(),
            scheme == "https" || scheme == "http", components.host?.isEmpty == false
        else { throw RelayConfigurationError("--gateway '\(gateway)': expected https://HOST[:PORT]") }
        var url = gateway
        if components.path.isEmpty || components.path == "/" {
            while url.hasSuffix("/") { url.removeLast() }
            url += "/v1/ohttp"
        }
        gatewayURL = url
        self.logger = logger
    }

    /// The relay's routes, with `client` making the forwarded requests.
    public func router(client: HTTPClient) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.addMiddleware { RefuseEverythingElse() }
        for path in Self.resourcePaths {
            router.post(RouterPath(path)) { request, _ in try await forward(request, client: client) }
        }
        return router
    }

    private func forward(_ incoming: Request, client: HTTPClient) async throws -> Response {
        let mediaType = incoming.headers[.contentType]?.split(separator: ";").first
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard let mediaType, Self.requestTypes.contains(mediaType) else {
            return Self.refusal(.unsupportedMediaType, "only message/ohttp-req and message/ohttp-chunked-req are relayed")
        }
        var request = incoming
        let body: ByteBuffer
        do { body = try await request.collectBody(upTo: Self.maxBodySize) } catch {
            return Self.refusal(.contentTooLarge, "encapsulated request larger than \(Self.maxBodySize) bytes")
        }
        var outbound = HTTPClientRequest(url: gatewayURL)
        outbound.method = .POST
        outbound.headers.add(name: "Content-Type", value: mediaType)
        outbound.headers.add(name: "Accept", value: "message/ohttp-chunked-res, message/ohttp-res")
        outbound.body = .bytes(body)
        let upstream: HTTPClientResponse
        do { upstream = try await client.execute(outbound, timeout: .seconds(600)) } catch {
            logger.warning("gateway unreachable", metadata: ["error": "\(error)"])
            return Self.refusal(.badGateway, "the gateway did not answer")
        }
        logger.debug("relayed", metadata: ["status": "\(upstream.status.code)", "request_bytes": "\(body.readableBytes)"])
        var headers = HTTPFields()
        if let type = upstream.headers.first(name: "content-type") { headers[.contentType] = type }
        let answer = upstream.body
        return Response(
            status: HTTPResponse.Status(code: Int(upstream.status.code)), headers: headers,
            body: ResponseBody { writer in
                for try await chunk in answer { try await writer.write(chunk) }
                try await writer.finish(nil)
            })
    }

    static func refusal(_ status: HTTPResponse.Status, _ reason: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: reason + "\n")))
    }

    /// Serves on `host:port` until cancelled; `gatewayCA` (PEM) replaces the system roots for the
    /// gateway's certificate (a dev appliance's self-signed one).
    public func run(host: String, port: Int, gatewayCA: String?, onListening: @escaping @Sendable (Int) async -> Void = { _ in })
        async throws
    {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let gatewayCA { tls.trustRoots = .file(gatewayCA) }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.decompression = .disabled
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let logger = logger
        let app = Application(
            router: router(client: client),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                logger.info("OHTTP relay listening", metadata: ["listen": "\(host):\(bound)", "gateway": "\(gatewayURL)"])
                await onListening(bound)
            },
            logger: logger)
        do {
            try await app.runService()
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }
}

/// Anything that is not a POST to the relay resource: 405 for another method on it, 404 else.
struct RefuseEverythingElse: RouterMiddleware {
    func handle(_ request: Request, context: BasicRequestContext, next: (Request, BasicRequestContext) async throws -> Response)
        async throws -> Response
    {
        guard OHTTPRelay.resourcePaths.contains(request.uri.path) else {
            return OHTTPRelay.refusal(.notFound, "this is an OHTTP relay: POST message/ohttp-req to /v1/ohttp")
        }
        guard request.method == .post else {
            var response = OHTTPRelay.refusal(.methodNotAllowed, "only POST is relayed")
            response.headers[.allow] = "POST"
            return response
        }
        return try await next(request, context)
    }
}

public struct RelayConfigurationError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
