import Foundation
import GatewayCore
import InferenceAPI
import OHTTP

/// One inner request for `POST /v1/ohttp`.
///
/// `.binaryHTTP` (RFC 9292) carries method, path and content type, so any inference route can
/// be reached and the answer comes back with its status; `.json` is upstream's form, a raw chat
/// completion body that the gateway always treats as `POST /v1/chat/completions`.
public struct ObliviousRequest: Sendable {
    public enum Encoding: String, Sendable, CaseIterable {
        case binaryHTTP = "bhttp"
        case json
    }

    public var method: String
    public var path: String
    public var body: [UInt8]
    public var encoding: Encoding
    /// Send as `message/ohttp-chunked-req` (the answer is then always chunked).
    public var chunked: Bool

    public init(method: String = "POST", path: String, body: [UInt8], encoding: Encoding = .binaryHTTP, chunked: Bool = false) {
        self.method = method
        self.path = path
        self.body = body
        self.encoding = encoding
        self.chunked = chunked
    }

    /// Upstream's raw JSON chat body.
    public static func chat(json body: [UInt8]) -> ObliviousRequest {
        ObliviousRequest(path: "/v1/chat/completions", body: body, encoding: .json)
    }

    /// The plaintext that gets encapsulated.
    func plaintext() throws -> [UInt8] {
        switch encoding {
        case .json:
            guard method == "POST", path == "/v1/chat/completions" else {
                throw ObliviousClientError.jsonFormOnlyForChat(method: method, path: path)
            }
            return body
        case .binaryHTTP:
            var fields: [HTTPField] = []
            if !body.isEmpty { fields.append(HTTPField(name: "content-type", value: "application/json")) }
            return try BinaryHTTPRequest(method: method, scheme: "https", path: path, headerFields: fields, content: body).encoded()
        }
    }
}

/// A decrypted answer and its verification against the attested signing key.
public struct ObliviousAnswer: Sendable {
    /// The inner HTTP status. The raw JSON form carries none: its answers report 200, or 0 when
    /// the body is an error object (`{"error": …}`).
    public let status: Int
    public let contentType: String?
    /// The inner body: JSON, or the SSE text of a stream.
    public let body: [UInt8]
    public let streamed: Bool
    /// Sealed chunks received (1 for `message/ohttp-res`).
    public let sealedChunks: Int
    /// The suite the request was sealed with.
    public let suite: HPKESuite
    /// Signature, output hash and request hash checks of a signed answer; empty for answers
    /// that carry no signature (errors, `/v1/models`, `count_tokens`).
    public let checks: CheckList
    /// Whether the route signs its answers (a 2xx from chat, completions or messages).
    public let signed: Bool

    /// A signed answer whose every check passed.
    public var isVerified: Bool { signed && !checks.hasFailures }
}

/// Sends inference requests through Oblivious HTTP to an attested gateway and verifies every
/// answer: the request is sealed to an attested OHTTP key configuration (RFC 9458, or chunked
/// per draft-ietf-ohai-chunked-ohttp-08), posted directly or through a relay, the response is
/// opened with the request's own context, and a signed answer's `tee_*` fields are checked
/// against the attested signing key with the request and output hashes recomputed.
///
/// Without a relay the gateway connection uses the attestation's pinned certificate policy.
/// A relay is any other host: it sees ciphertext only, so its certificate is checked by the
/// ordinary web PKI (or, when the relay URL is the gateway itself, by the pin).
public struct ObliviousClient: Sendable {
    public let gateway: GatewayAttestation
    public let relay: RelayTarget?

    /// `gateway` must have passed `requireValid()`; this initializer refuses one that did not.
    public init(gateway: GatewayAttestation, relay: RelayTarget? = nil) throws(AttestationFailed) {
        try gateway.requireValid()
        self.gateway = gateway
        self.relay = relay
    }

    /// The attested configuration for `kem`, or an error naming what the gateway offers.
    public func config(for kem: HPKEKEM) throws(ObliviousClientError) -> KeyConfig {
        guard let config = gateway.ohttpConfigs.first(where: { $0.kem == kem }) else {
            throw .noConfig(kem: kem, offered: gateway.ohttpConfigs.map(\.kem))
        }
        return config
    }

    /// Seals, sends, opens and verifies one request. `onEvent` sees each SSE event of a stream
    /// as soon as its sealed chunk is authentic (before the whole answer has arrived).
    public func send(
        _ request: ObliviousRequest, kem: HPKEKEM = .xWing, onEvent: (@Sendable (SSEEvent) -> Void)? = nil
    ) async throws -> ObliviousAnswer {
        let config = try config(for: kem)
        let plaintext = try request.plaintext()
        let sealed =
            try request.chunked
            ? OHTTPClient.encapsulateChunked(chunks: Self.split(plaintext), config: config)
            : OHTTPClient.encapsulate(request: plaintext, config: config)
        let target = relay ?? RelayTarget(endpoint: gateway.endpoint, path: "/v1/ohttp")
        let policy: CertificatePolicy = target.endpoint == gateway.endpoint ? gateway.pinnedPolicy : .webPKI
        let mediaType = request.chunked ? OHTTPMediaType.chunkedRequest : OHTTPMediaType.request

        var reader = ResponseReader(context: sealed.responseContext, encoding: request.encoding, onEvent: onEvent)
        _ = try await GatewayConnection(endpoint: target.endpoint, policy: policy).run { session in
            try await session.stream(
                "POST", target.path, accept: OHTTPMediaType.chunkedResponse + ", " + OHTTPMediaType.response,
                contentType: mediaType, body: sealed.bytes,
                onHead: { status, contentType in reader.begin(status: status, contentType: contentType) },
                onChunk: { chunk in try reader.feed(chunk) })
        }
        let inner = try reader.finish()
        let (signed, checks) = Self.verify(inner, request: request, key: gateway.signingKey)
        return ObliviousAnswer(
            status: inner.status, contentType: inner.contentType, body: inner.body, streamed: inner.streamed,
            sealedChunks: inner.sealedChunks, suite: sealed.responseContext.suite, checks: checks, signed: signed)
    }

    /// Three roughly equal chunks, so a chunked request really has several.
    static func split(_ bytes: [UInt8]) -> [[UInt8]] {
        let third = max(1, bytes.count / 3)
        return stride(from: 0, to: max(bytes.count, 1), by: third).map { Array(bytes[$0..<min($0 + third, bytes.count)]) }
    }

    /// Signed routes are verified in full; everything else (errors, models, token counts) is
    /// reported unsigned.
    static func verify(_ inner: InnerAnswer, request: ObliviousRequest, key: InferenceVerifyingKey) -> (Bool, CheckList) {
        let routes: [String: (InferenceRequest.Route, RequestKind)] = [
            "/v1/chat/completions": (.chatCompletions, .chat), "/v1/completions": (.completions, .completions),
            "/v1/messages": (.messages, .chat),
        ]
        guard (200..<300).contains(inner.status), let entry = routes[request.path] else { return (false, CheckList()) }
        let (route, kind) = entry
        var checks = CheckList()
        let response: SignedResponse
        do {
            response = try inner.streamed ? SignedResponse(stream: inner.body, kind: kind) : SignedResponse(json: inner.body, kind: kind)
        } catch {
            checks.record("tee fields", .failed("the answer carries no verifiable signature: \(error)"))
            return (true, checks)
        }
        let requestHash: Keccak256Digest?
        do {
            requestHash = try InferenceRequest(route: route, body: try JSONParser().parse(request.body)).canonical.hash
        } catch {
            requestHash = nil
        }
        checks.append(contentsOf: response.verify(with: key, requestHash: requestHash))
        return (true, checks)
    }
}

/// Where encapsulated requests go when they do not go straight to the gateway.
public struct RelayTarget: Sendable, Hashable {
    public let endpoint: GatewayEndpoint
    public let path: String

    public init(endpoint: GatewayEndpoint, path: String) {
        self.endpoint = endpoint
        self.path = path
    }

    /// `https://HOST[:PORT]/PATH` (the path defaults to `/v1/ohttp`).
    public init(parsing text: String) throws(GatewayFetchError) {
        guard let slash = text.range(of: "/", range: text.index(text.startIndex, offsetBy: min(8, text.count))..<text.endIndex)
        else {
            self.init(endpoint: try GatewayEndpoint(parsing: text), path: "/v1/ohttp")
            return
        }
        let path = String(text[slash.lowerBound...])
        self.init(endpoint: try GatewayEndpoint(parsing: String(text[..<slash.lowerBound])), path: path == "/" ? "/v1/ohttp" : path)
    }
}

/// The opened inner answer before verification.
struct InnerAnswer {
    let status: Int
    let contentType: String?
    let body: [UInt8]
    let streamed: Bool
    let sealedChunks: Int
}

/// Opens the outer response as it arrives: a single-shot body is buffered and opened at the
/// end; a chunked one chunk by chunk, decoding Binary HTTP and SSE incrementally so `onEvent`
/// sees each event as soon as its chunk is authentic.
struct ResponseReader {
    private enum Mode {
        case refused(status: UInt, contentType: String?)
        case singleShot
        case chunked
        case unexpected(String?)
    }

    let context: ResponseContext
    let encoding: ObliviousRequest.Encoding
    let onEvent: (@Sendable (SSEEvent) -> Void)?
    private var mode: Mode?
    private var buffered: [UInt8] = []
    private var opener: ChunkedResponseOpener
    private var binaryHTTP = BinaryHTTPResponseReader()
    private var sse = SSEParser()
    private var head: (status: Int, contentType: String?)?
    private var content: [UInt8] = []
    private var chunks = 0

    init(context: ResponseContext, encoding: ObliviousRequest.Encoding, onEvent: (@Sendable (SSEEvent) -> Void)?) {
        self.context = context
        self.encoding = encoding
        self.onEvent = onEvent
        opener = ChunkedResponseOpener(context: context)
    }

    mutating func begin(status: UInt, contentType: String?) {
        let mediaType = contentType?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        mode =
            switch (status, mediaType) {
            case (200, OHTTPMediaType.response): .singleShot
            case (200, OHTTPMediaType.chunkedResponse): .chunked
            case (200, _): .unexpected(contentType)
            default: .refused(status: status, contentType: contentType)
            }
    }

    mutating func feed(_ bytes: [UInt8]) throws {
        switch mode {
        case .chunked: try open(opener.feed(bytes))
        case .refused, .unexpected: if buffered.count < 4096 { buffered += bytes.prefix(4096 - buffered.count) }
        case .singleShot, nil: buffered += bytes
        }
    }

    mutating func finish() throws -> InnerAnswer {
        switch mode {
        case .refused(let status, let contentType):
            throw ObliviousClientError.refused(status: status, contentType: contentType, body: buffered)
        case .unexpected(let contentType):
            throw ObliviousClientError.unexpectedMediaType(contentType)
        case nil:
            throw ObliviousClientError.unexpectedMediaType(nil)
        case .singleShot:
            try open([context.openResponse(buffered)])
            if encoding == .binaryHTTP { try deliver(binaryHTTP.finish()) }
            return try answer(streamed: false)
        case .chunked:
            try open([opener.finish()])
            if encoding == .binaryHTTP { try deliver(binaryHTTP.finish()) }
            if let event = sse.finish() { onEvent?(event) }
            let streamed =
                switch encoding {
                case .binaryHTTP: head?.contentType?.hasPrefix("text/event-stream") ?? false
                case .json: content.first.map { $0 != UInt8(ascii: "{") } ?? false
                }
            return try answer(streamed: streamed)
        }
    }

    private mutating func open(_ plaintexts: [[UInt8]]) throws {
        for plaintext in plaintexts {
            chunks += 1
            switch encoding {
            case .json: append(plaintext)
            case .binaryHTTP: try deliver(binaryHTTP.feed(plaintext))
            }
        }
    }

    private mutating func deliver(_ parts: [BinaryHTTPResponseReader.Part]) throws {
        for part in parts {
            switch part {
            case .head(let status, let fields):
                head = (status, fields.first { $0.name == "content-type" }?.value)
            case .content(let bytes): append(bytes)
            case .end: break
            }
        }
    }

    private mutating func append(_ bytes: [UInt8]) {
        content += bytes
        guard onEvent != nil, let events = try? sse.feed(bytes) else { return }
        for event in events { onEvent?(event) }
    }

    private func answer(streamed: Bool) throws -> InnerAnswer {
        switch encoding {
        case .binaryHTTP:
            guard let head else { throw ObliviousClientError.noInnerResponse }
            return InnerAnswer(status: head.status, contentType: head.contentType, body: content, streamed: streamed, sealedChunks: chunks)
        case .json:
            // The raw JSON form carries no status; an error object stands for a failed request.
            let isError = !streamed && (try? JSONParser().parse(content))?["error"] != nil
            return InnerAnswer(
                status: isError ? 0 : 200, contentType: streamed ? "text/event-stream" : "application/json", body: content,
                streamed: streamed, sealedChunks: chunks)
        }
    }
}

public enum ObliviousClientError: Error, Sendable, CustomStringConvertible {
    case noConfig(kem: HPKEKEM, offered: [HPKEKEM])
    case jsonFormOnlyForChat(method: String, path: String)
    /// The gateway answered in the clear: the request never reached the inner handler.
    case refused(status: UInt, contentType: String?, body: [UInt8])
    case unexpectedMediaType(String?)
    case noInnerResponse

    public var description: String {
        switch self {
        case .noConfig(let kem, let offered):
            "OHTTP key config check failed: the attested configs offer no KEM 0x\(String(kem.rawValue, radix: 16)) "
                + "(offered: \(offered.map { "0x" + String($0.rawValue, radix: 16) }.joined(separator: ", ")))"
        case .jsonFormOnlyForChat(let method, let path):
            "the raw JSON inner form only reaches POST /v1/chat/completions, not \(method) \(path); use Binary HTTP"
        case .refused(let status, let contentType, let body):
            "the gateway refused the encapsulated request: HTTP \(status) \(contentType ?? ""): "
                + String(decoding: body.prefix(300), as: UTF8.self)
        case .unexpectedMediaType(let type):
            "OHTTP response check failed: content type \(type ?? "none") is neither message/ohttp-res nor message/ohttp-chunked-res"
        case .noInnerResponse:
            "OHTTP response check failed: the decrypted answer holds no complete Binary HTTP response"
        }
    }
}
