import Attestation
import Crypto
import Foundation
import GatewayCore
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import OHTTP
import X509

/// An HTTPS server on 127.0.0.1 that plays the gateway's attestation endpoints with a simulated
/// NSM, its own self-signed certificate and a fresh signing key; `Behaviour` makes it lie in one
/// chosen way at a time.
final class TestGateway: Sendable {
    struct Behaviour: Sendable {
        /// Bind this certificate in user_data instead of the one actually served.
        var boundCertificateDER: [UInt8]?
        /// Put this nonce in the document instead of the one asked for.
        var echoedNonce: [UInt8]?
        var servesOHTTPKeys = true
        /// State this tee_id on /signing-key instead of the key's own.
        var statedTEEID: String?
    }

    let authority: DevCertificateAuthority
    let signingKey: InferenceSigningKey
    let certificateDER: [UInt8]
    let port: Int
    private let channel: any Channel

    init(behaviour: Behaviour = Behaviour(), pcrs: [Int: [UInt8]] = [:]) async throws {
        let authority = try DevCertificateAuthority()
        let nsm = try SimulatedNSM(pcrs: pcrs, authority: authority)
        let signingKey = try InferenceSigningKey.generate()
        let ohttpKeys = try OHTTPGatewayKeys.generate().encodedConfigList
        let (certificatePEM, certificateDER, keyPEM) = try Self.selfSignedCertificate()
        let binding = UserDataBinding(
            tlsCertificateDER: behaviour.boundCertificateDER ?? certificateDER,
            signingKeySPKIDER: signingKey.publicKey.spkiDER, ohttpKeyConfigs: ohttpKeys
        )
        let signingKeyBody = JSONWriter.serialize(
            [
                "public_key": .string(signingKey.publicKey.pem),
                "tee_id": .string(behaviour.statedTEEID ?? signingKey.teeID.description),
            ], style: .compact)

        let routes: @Sendable (String) -> (HTTPResponseStatus, String, [UInt8]) = { uri in
            let components = URLComponents(string: uri)
            switch components?.path {
            case "/enclave/attestation":
                guard let hex = components?.queryItems?.first(where: { $0.name == "nonce" })?.value,
                    let nonce = try? GatewayCore.Hex.decode(hex)
                else { return (.badRequest, "text/plain", Array("bad nonce\n".utf8)) }
                guard let document = try? nsm.attest(nonce: behaviour.echoedNonce ?? nonce, userData: binding.encoded(), publicKey: nil)
                else { return (.internalServerError, "text/plain", Array("attest failed\n".utf8)) }
                return (.ok, "text/plain", Array((Data(document).base64EncodedString() + "\n").utf8))
            case "/signing-key":
                return (.ok, "application/json", signingKeyBody)
            case "/.well-known/ohttp-gateway" where behaviour.servesOHTTPKeys:
                return (.ok, OHTTPMediaType.keys, ohttpKeys)
            default:
                return (.notFound, "application/json", Array(#"{"error":{"message":"not found"}}"#.utf8))
            }
        }

        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: Array(certificatePEM.utf8), format: .pem))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem))
        )
        tls.applicationProtocols = ["http/1.1"]
        let context = try NIOSSLContext(configuration: tls)
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(RouteHandler(routes: routes))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        guard let port = channel.localAddress?.port else { throw TestGatewayError.noPort }
        self.port = port
        self.authority = authority
        self.signingKey = signingKey
        self.certificateDER = certificateDER
    }

    var url: String { "https://127.0.0.1:\(port)" }

    func stop() async throws { try await channel.close() }

    /// A P-256 self-signed certificate as tls-front makes one: nothing but attestation vouches for it.
    static func selfSignedCertificate() throws -> (pem: String, der: [UInt8], keyPEM: String) {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName("gateway.test") }
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: Date().addingTimeInterval(-60), notValidAfter: Date().addingTimeInterval(3600),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: Certificate.Extensions(), issuerPrivateKey: .init(key)
        )
        let pem = try certificate.serializeAsPEM()
        return (pem.pemString, pem.derBytes, key.pemRepresentation)
    }
}

enum TestGatewayError: Error { case noPort }

/// Answers each request from `routes`, keeping the connection open (the client sends several).
private final class RouteHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let routes: @Sendable (String) -> (HTTPResponseStatus, String, [UInt8])
    init(routes: @escaping @Sendable (String) -> (HTTPResponseStatus, String, [UInt8])) { self.routes = routes }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = unwrapInboundIn(data) else { return }
        let (status, contentType, body) = routes(head.uri)
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: contentType)
        headers.add(name: "content-length", value: "\(body.count)")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
