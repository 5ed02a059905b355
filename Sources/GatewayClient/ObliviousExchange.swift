import Foundation
import GatewayCore
import OHTTP

/// Posts one sealed OHTTP request somewhere and feeds the answer back as it arrives. The
/// `ObliviousClient.send` path owns its TLS connection (pinned gateway or web-PKI relay); a
/// caller that reaches the relay another way (plain HTTP on loopback, an HTTP client with its
/// own pool) passes this instead. It sees ciphertext only, so it needs no trust.
public typealias ObliviousTransport = @Sendable (
    _ sealed: [UInt8], _ contentType: String, _ accept: String,
    _ onHead: @Sendable (_ status: UInt, _ contentType: String?) async throws -> Void,
    _ onChunk: @Sendable (_ chunk: [UInt8]) async throws -> Void
) async throws -> Void

extension ObliviousClient {
    /// A client for a gateway whose attestation did NOT verify, for `confidential-proxy
    /// --no-attest` in local development only: requests are still sealed to the served OHTTP
    /// configs and answers still checked against the served signing key, but nothing proves
    /// those belong to an enclave.
    public init(unattested gateway: GatewayAttestation, relay: RelayTarget? = nil) {
        self.gateway = gateway
        self.relay = relay
    }

    /// Like `send`, with extra inner header fields (inside the encrypted Binary HTTP request
    /// only: the relay and the gateway's front never see them) and the outer POST made by
    /// `transport`. Binary HTTP requests only.
    public func send(
        _ request: ObliviousRequest, headers: [HTTPField], kem: HPKEKEM, transport: ObliviousTransport,
        onEvent: (@Sendable (SSEEvent) -> Void)? = nil
    ) async throws -> ObliviousAnswer {
        let config = try config(for: kem)
        var fields: [HTTPField] = []
        if !request.body.isEmpty { fields.append(HTTPField(name: "content-type", value: "application/json")) }
        fields += headers
        let plaintext = try BinaryHTTPRequest(
            method: request.method, scheme: "https", path: request.path, headerFields: fields, content: request.body
        ).encoded()
        let sealed =
            try request.chunked
            ? OHTTPClient.encapsulateChunked(chunks: Self.split(plaintext), config: config)
            : OHTTPClient.encapsulate(request: plaintext, config: config)
        let mediaType = request.chunked ? OHTTPMediaType.chunkedRequest : OHTTPMediaType.request
        let reader = LockedReader(ResponseReader(context: sealed.responseContext, encoding: .binaryHTTP, onEvent: onEvent))
        try await transport(
            sealed.bytes, mediaType, OHTTPMediaType.chunkedResponse + ", " + OHTTPMediaType.response,
            { status, contentType in reader.withLock { $0.begin(status: status, contentType: contentType) } },
            { chunk in try reader.withLock { try $0.feed(chunk) } })
        let inner = try reader.withLock { try $0.finish() }
        let (signed, checks) = Self.verify(inner, request: request, key: gateway.signingKey)
        return ObliviousAnswer(
            status: inner.status, contentType: inner.contentType, body: inner.body, streamed: inner.streamed,
            sealedChunks: inner.sealedChunks, suite: sealed.responseContext.suite, checks: checks, signed: signed)
    }
}

/// The reader shared with the transport's callbacks, which are `@Sendable`.
private final class LockedReader: @unchecked Sendable {
    private let lock = NSLock()
    private var reader: ResponseReader

    init(_ reader: ResponseReader) { self.reader = reader }

    func withLock<T>(_ body: (inout ResponseReader) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&reader)
    }
}
