import EnclaveIPC
import GatewayCore
import Hummingbird
import InferenceAPI
import Logging
import NIOCore
import OHTTP

/// `POST /v1/ohttp`: the Oblivious HTTP gateway (RFC 9458, draft-ietf-ohai-chunked-ohttp-08).
///
/// The body goes to key-service (`ohttpOpen`), which alone holds the HPKE private keys and
/// returns the inner plaintext and the response secrets. The inner request then runs through
/// `WorkerRoutes.dispatch`, the same in-process pipeline a plain request takes (validation,
/// provider call, signing), so its answer carries the same `tee_*` fields. The answer is sealed
/// back: a complete answer as `message/ohttp-res` (or, for a chunked request, one final chunk
/// of `message/ohttp-chunked-res`), a stream as `message/ohttp-chunked-res` with one sealed
/// chunk per SSE event, written as the provider produces it.
///
/// The relay (everyone between client and enclave) must learn nothing from the outcome, so
/// everything after a successful decapsulation, inner errors included, is sealed under an outer
/// `200`. What happens before is answered in the clear with fixed bodies that say nothing about
/// *why* decryption failed (docs/wire-contracts.md lists them).
struct ObliviousGateway: Sendable {
    /// RFC 9458 gives no limit; upstream's is 512 KiB, and key-service refuses more.
    static let maximumBodyBytes = 512 * 1024

    let keyService: KeyServiceClient
    let routes: WorkerRoutes
    let logger: Logger

    func respond(to request: Request) async throws -> Response {
        guard let form = RequestForm(contentType: request.headers[.contentType]) else { return Refusal.unsupportedMediaType }
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > Self.maximumBodyBytes {
            return Refusal.tooLarge
        }
        var body: [UInt8] = []
        for try await chunk in request.body {
            guard body.count + chunk.readableBytes <= Self.maximumBodyBytes else { return Refusal.tooLarge }
            body.append(contentsOf: chunk.readableBytesView)
        }
        guard !body.isEmpty else { return Refusal.undecryptable }

        let opened: OpenedOHTTPRequest
        do throws(KeyServiceClientError) {
            opened = try await keyService.ohttpOpen(encapsulatedRequest: body, chunked: form == .chunked)
        } catch .server(let error) where error.code == .unknownKeyID {
            return Refusal.unknownKeyID
        } catch .server(let error) where error.code == .malformed {
            return Refusal.undecryptable
        } catch {
            logger.error("ohttpOpen failed", metadata: ["error": "\(error)"])
            return Refusal.unavailable
        }
        let context: ResponseContext
        do {
            context = try Self.responseContext(opened)
        } catch {
            logger.error("key-service returned an unusable OHTTP response context", metadata: ["error": "\(error)"])
            return Refusal.unavailable
        }

        let (encoding, inner) = InnerRequest.parse(opened.plaintext)
        let reply: WorkerReply
        var paymentHeaders: [(String, String)] = []
        switch inner {
        case .success(let inner):
            let paid = await routes.dispatch(
                inner, outerHeaders: request.headers.map { ($0.name.canonicalName, $0.value) },
                resource: "https://\(request.head.authority ?? "localhost")/v1/ohttp")
            // x402: the one inner answer sent in the clear is the 402, so the relay can pay.
            if paid.paymentRefused { return paid.response }
            reply = paid.reply
            paymentHeaders = paid.headers
        case .failure(let error): reply = .json(error, .openAI)
        }
        do {
            var response = try Self.seal(reply, encoding: encoding, context: context, chunkedRequest: form == .chunked)
            PaidReply.add(paymentHeaders, to: &response)
            return response
        } catch {
            logger.error("sealing the OHTTP response failed", metadata: ["error": "\(error)"])
            return Refusal.unavailable
        }
    }

    /// The two encapsulated request media types this route takes.
    enum RequestForm: Equatable {
        case singleShot, chunked

        init?(contentType: String?) {
            let mediaType = contentType?.split(separator: ";").first.map {
                $0.trimmingCharacters(in: .whitespaces).lowercased()
            }
            switch mediaType {
            case OHTTPMediaType.request: self = .singleShot
            case OHTTPMediaType.chunkedRequest: self = .chunked
            default: return nil
            }
        }
    }

    static func responseContext(_ opened: OpenedOHTTPRequest) throws -> ResponseContext {
        guard let kem = HPKEKEM(rawValue: opened.kemID), let kdf = HPKEKDF(rawValue: opened.kdfID),
            let aead = HPKEAEAD(rawValue: opened.aeadID)
        else { throw UnknownSuite(kemID: opened.kemID, kdfID: opened.kdfID, aeadID: opened.aeadID) }
        return try ResponseContext(
            suite: HPKESuite(kem: kem, kdf: kdf, aead: aead), encapsulatedKey: opened.encapsulatedKey,
            responseSecret: opened.responseSecret, chunkedResponseSecret: opened.chunkedResponseSecret)
    }

    struct UnknownSuite: Error {
        let kemID: UInt16, kdfID: UInt16, aeadID: UInt16
    }

    /// The sealed outer response. A complete reply is one AEAD message (or, answering a chunked
    /// request, one final chunk); a stream becomes `message/ohttp-chunked-res`.
    static func seal(
        _ reply: WorkerReply, encoding: InnerRequest.Encoding, context: ResponseContext, chunkedRequest: Bool
    ) throws -> Response {
        switch reply {
        case .json(let status, let body, let retryAfterSeconds):
            var plaintext = body
            if encoding == .binaryHTTP {
                var fields = [HTTPField(name: "content-type", value: "application/json")]
                if let retryAfterSeconds { fields.append(HTTPField(name: "retry-after", value: String(retryAfterSeconds))) }
                plaintext = try BinaryHTTPResponse(status: status, headerFields: fields, content: body).encoded()
            }
            if chunkedRequest {
                var sealer = ChunkedResponseSealer(context: context)
                return sealed(OHTTPMediaType.chunkedResponse, ResponseBody(byteBuffer: ByteBuffer(bytes: try sealer.sealFinal(plaintext))))
            }
            return sealed(OHTTPMediaType.response, ResponseBody(byteBuffer: ByteBuffer(bytes: try context.sealResponse(plaintext))))
        case .eventStream(let frames):
            let chunks = SealedEventStream(frames: frames, context: context, binaryHTTP: encoding == .binaryHTTP)
            return sealed(OHTTPMediaType.chunkedResponse, ResponseBody(asyncSequence: chunks))
        }
    }

    private static func sealed(_ contentType: String, _ body: ResponseBody) -> Response {
        Response(status: .ok, headers: [.contentType: contentType, .cacheControl: "no-store"], body: body)
    }
}

/// What the gateway answers in the clear, before or instead of decapsulation. The bodies are
/// constants: they never echo the request or say which step failed.
enum Refusal {
    static var unsupportedMediaType: Response { json(
        415,
        #"{"error":{"message":"POST /v1/ohttp takes message/ohttp-req or message/ohttp-chunked-req","type":"invalid_request_error","param":null,"code":"unsupported_media_type"}}"#
    ) }
    static var tooLarge: Response { json(
        413,
        #"{"error":{"message":"The encapsulated request exceeds the limit of 524288 bytes","type":"invalid_request_error","param":null,"code":"request_too_large"}}"#
    ) }
    /// Empty, truncated, tampered, sealed to another key, or a suite the key does not offer:
    /// one answer for all, so the gateway is no decryption oracle.
    static var undecryptable: Response { json(
        400,
        #"{"error":{"message":"The encapsulated request could not be decapsulated","type":"invalid_request_error","param":null,"code":"ohttp_decapsulation_failed"}}"#
    ) }
    /// RFC 9457 problem details with RFC 9458's `ohttp-key` problem type. The key id travels in
    /// the clear, so saying it is unknown reveals nothing the relay could not see; it tells the
    /// client its configuration is stale (the gateway restarted) and to refetch it.
    static var unknownKeyID: Response {
        let body = #"{"type":"https://iana.org/assignments/http-problem-types#ohttp-key","title":"unknown OHTTP key identifier","status":422,"detail":"refetch the key configuration from /.well-known/ohttp-gateway, verify it against the attestation, and retry"}"#
        return Response(
            status: .init(code: 422), headers: [.contentType: "application/problem+json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
    static var unavailable: Response { Response(
        status: .serviceUnavailable, headers: [.contentType: "application/json", .retryAfter: "1"],
        body: ResponseBody(
            byteBuffer: ByteBuffer(
                string:
                    #"{"error":{"message":"The gateway cannot open encapsulated requests right now; retry shortly","type":"server_error","param":null,"code":"service_unavailable"}}"#
            ))) }

    private static func json(_ status: Int, _ body: String) -> Response {
        Response(
            status: .init(code: status), headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}

/// A decapsulated inner request.
///
/// Two encodings, told apart by the first plaintext byte: `0x00` or `0x02` is a Binary HTTP
/// request (RFC 9292 framing indicators for known- and indeterminate-length requests); anything
/// else is upstream's form, a raw JSON chat completion body (which starts with `{` or
/// whitespace, never with those bytes). The answer comes back in the same encoding.
struct InnerRequest: Sendable {
    enum Encoding: Sendable { case binaryHTTP, json }

    let method: String
    /// Without query.
    let path: String
    let contentType: String?
    let body: [UInt8]
    /// The headers the pipeline may use (`anthropic-*`, as for a plain request): none for raw JSON.
    var headers: [(String, String)] = []

    /// Fields upstream strips from a raw JSON body before dispatch: identifiers a client may
    /// send out of habit, which would undo the anonymity OHTTP provides. None is signed.
    static let strippedJSONFields: Set<String> = ["user", "metadata", "x-request-id", "request_id"]

    static func parse(_ plaintext: [UInt8]) -> (Encoding, Result<InnerRequest, APIError>) {
        guard let first = plaintext.first, first == 0x00 || first == 0x02 else {
            return (.json, .success(InnerRequest(method: "POST", path: "/v1/chat/completions", contentType: nil, body: strip(plaintext))))
        }
        let request: BinaryHTTPRequest
        do {
            request = try BinaryHTTPRequest(decoding: plaintext, limits: BinaryHTTPLimits(maxContentLength: ObliviousGateway.maximumBodyBytes))
        } catch {
            let refusal = APIError(
                status: 400, message: "The inner request is not valid Binary HTTP (RFC 9292): \(error)",
                openAIType: "invalid_request_error", anthropicType: "invalid_request_error")
            return (.binaryHTTP, .failure(refusal))
        }
        let path = String(request.path.prefix { $0 != "?" })
        let contentType = request.headerFields.first { $0.name == "content-type" }?.value
        let headers = request.headerFields.filter { WorkerRoutes.isPipelineHeader($0.name) }.map { ($0.name, $0.value) }
        return (
            .binaryHTTP,
            .success(InnerRequest(method: request.method, path: path, contentType: contentType, body: request.content, headers: headers))
        )
    }

    /// The body without `strippedJSONFields`; a body that does not parse is left for the
    /// pipeline to refuse with its usual message.
    private static func strip(_ body: [UInt8]) -> [UInt8] {
        guard let object = (try? JSONParser().parse(body))?.objectValue,
            object.keys.contains(where: strippedJSONFields.contains)
        else { return body }
        let kept = object.filter { !strippedJSONFields.contains($0.key) }.map { ($0.key, $0.value) }
        return JSONWriter.serialize(.object(JSONObject(kept)), style: .compact)
    }
}

/// The SSE frames of a streamed reply as `message/ohttp-chunked-res` chunks: one sealed chunk
/// per SSE event, each written as soon as the pipeline produces it, then a final chunk (empty
/// for a raw JSON request; the Binary HTTP content terminator and empty trailers otherwise).
/// For Binary HTTP the first chunk is the response head (status 200, `text/event-stream`).
///
/// Iteration stops when the client goes away; dropping the frames' iterator ends the stream,
/// which cancels the pipeline's task and with it the provider call.
struct SealedEventStream: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    let frames: AsyncStream<[UInt8]>
    let context: ResponseContext
    let binaryHTTP: Bool

    struct AsyncIterator: AsyncIteratorProtocol {
        var frames: AsyncStream<[UInt8]>.AsyncIterator
        var sealer: ChunkedResponseSealer
        let binaryHTTP: Bool
        var splitter = SSEEventSplitter()
        var pending: [[UInt8]] = []
        var started = false
        var finished = false

        mutating func next() async throws -> ByteBuffer? {
            guard !finished else { return nil }
            if !started {
                started = true
                if binaryHTTP {
                    let head = try BinaryHTTPResponseWriter.head(
                        status: 200,
                        headerFields: [
                            HTTPField(name: "content-type", value: "text/event-stream"),
                            HTTPField(name: "cache-control", value: "no-cache"),
                        ])
                    return ByteBuffer(bytes: try sealer.seal(head))
                }
            }
            let binaryHTTP = binaryHTTP
            while pending.isEmpty {
                guard let frame = await frames.next() else {
                    finished = true
                    let rest = splitter.finish()
                    var last = try rest.map { try Self.wrap($0, binaryHTTP: binaryHTTP) } ?? []
                    if binaryHTTP { last += BinaryHTTPResponseWriter.end }
                    return ByteBuffer(bytes: try sealer.sealFinal(last))
                }
                pending = try splitter.feed(frame).map { try Self.wrap($0, binaryHTTP: binaryHTTP) }
            }
            return ByteBuffer(bytes: try sealer.seal(pending.removeFirst()))
        }

        private static func wrap(_ event: [UInt8], binaryHTTP: Bool) throws -> [UInt8] {
            binaryHTTP ? try BinaryHTTPResponseWriter.contentChunk(event) : event
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(frames: frames.makeAsyncIterator(), sealer: ChunkedResponseSealer(context: context), binaryHTTP: binaryHTTP)
    }
}

/// Cuts the worker's own SSE output into events at each blank line (`\n\n`), so each event can
/// be sealed as its own chunk. This is framing of text the worker wrote itself, not a parser
/// for foreign streams (that is `SSEParser`).
struct SSEEventSplitter: Sendable {
    private var buffer: [UInt8] = []

    mutating func feed(_ bytes: [UInt8]) -> [[UInt8]] {
        buffer += bytes
        var events: [[UInt8]] = []
        var start = 0
        var index = 0
        while index + 1 < buffer.count {
            if buffer[index] == 0x0A, buffer[index + 1] == 0x0A {
                events.append(Array(buffer[start...(index + 1)]))
                start = index + 2
                index = start
            } else {
                index += 1
            }
        }
        buffer.removeFirst(start)
        return events
    }

    /// Whatever followed the last blank line (nothing, for well-formed output).
    mutating func finish() -> [UInt8]? {
        defer { buffer = [] }
        return buffer.isEmpty ? nil : buffer
    }
}
