import GatewayCore
import HTTPTypes
import Hummingbird
import InferenceAPI
import Logging
import Metrics
import NIOCore
import Payments

/// The worker's HTTP routes (ARCHITECTURE §4, the rows served by a worker).
struct WorkerRoutes: Sendable {
    let endpoint: InferenceEndpoint
    let identity: IdentityCell
    let maximumBodyBytes: Int
    /// x402 (docs/payments.md); nil when payments are off, and then nothing below changes.
    var payments: PaymentGate? = nil
    let logger: Logger

    func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: RequestLogMiddleware(logger: logger, methodsByPath: Self.methodsByPath))
        router.get("health") { _, _ in
            guard let identity = identity.current else {
                return Self.response(.json(status: 503, body: Array(#"{"status":"starting"}"#.utf8)))
            }
            let body = JSONWriter.serialize(["status": "ok", "tee_id": .string(identity.teeID.description)], style: .compact)
            return Self.response(.json(status: 200, body: body))
        }
        router.get("signing-key") { _, _ in try await withIdentity { try $0.signingKeyBody() } }
        router.get("v1/ohttp/config") { _, _ in try await withIdentity { try $0.ohttpConfigBody() } }
        router.get(".well-known/ohttp-gateway") { _, _ in
            guard let identity = identity.current else { return Self.notReady(.openAI) }
            return Response(
                status: .ok,
                headers: [.contentType: "application/ohttp-keys"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: identity.ohttpKeyConfigList))
            )
        }
        router.get("v1/models") { _, _ in Self.response(.json(status: 200, body: modelsBody())) }
        for route in InferenceRequest.Route.allCases {
            router.post(RouterPath(String(route.path.dropFirst()))) { request, _ in try await inference(route, request) }
        }
        router.post(RouterPath(String(InferenceRequest.Route.countTokensPath.dropFirst()))) { request, _ in
            switch try await body(of: request, dialect: .anthropic) {
            case .success(let body): Self.response(await endpoint.countTokens(body: body, headers: Self.clientHeaders(request)))
            case .failure(let error): Self.response(.json(error, .anthropic))
            }
        }
        router.post("v1/ohttp") { request, _ in
            try await ObliviousGateway(keyService: endpoint.keyService, routes: self, logger: logger).respond(to: request)
        }
        return router
    }

    /// Every path below and the method it is served with. Hummingbird answers a known path with
    /// the wrong method like an unknown one; this table lets the middleware make that a 405.
    static let methodsByPath: [String: String] = {
        var table = [
            "/health": "GET", "/signing-key": "GET", "/v1/ohttp/config": "GET", "/.well-known/ohttp-gateway": "GET",
            "/v1/models": "GET", InferenceRequest.Route.countTokensPath: "POST", "/v1/ohttp": "POST",
        ]
        for route in InferenceRequest.Route.allCases { table[route.path] = "POST" }
        return table
    }()

    /// The client headers the inference pipeline may use (Anthropic's versioning headers on the
    /// native path); everything else stays here.
    static func clientHeaders(_ request: Request) -> [(String, String)] {
        request.headers.compactMap { field in
            let name = field.name.canonicalName
            return isPipelineHeader(name) ? (name, field.value) : nil
        }
    }

    /// Whether the pipeline may see a client header (lowercased name), for plain and OHTTP
    /// inner requests alike.
    static func isPipelineHeader(_ name: String) -> Bool { name.lowercased().hasPrefix("anthropic-") }

    private func withIdentity(_ body: (SigningIdentity) throws -> [UInt8]) async throws -> Response {
        guard let identity = identity.current else { return Self.notReady(.openAI) }
        return Self.response(.json(status: 200, body: try body(identity)))
    }

    private func inference(_ route: InferenceRequest.Route, _ request: Request) async throws -> Response {
        let dialect = route.dialect
        guard identity.current != nil else { return Self.notReady(dialect) }
        switch try await body(of: request, dialect: dialect) {
        case .success(let body):
            guard payments != nil else {
                return Self.response(await endpoint.respond(route: route, body: body, headers: Self.clientHeaders(request)))
            }
            let headers = request.headers.map { ($0.name.canonicalName, $0.value) }
            let paid = await paidReply(
                route, body: body, pipelineHeaders: Self.clientHeaders(request), paymentHeaders: headers,
                resource: "https://\(request.head.authority ?? "localhost")\(route.path)")
            return paid.response
        case .failure(let error): return Self.response(.json(error, dialect))
        }
    }

    /// A paid route's answer: the gate decides before the provider is called (402, or a
    /// charge), and an exact payment is settled before any of the answer is released.
    func paidReply(
        _ route: InferenceRequest.Route, body: [UInt8], pipelineHeaders: [(String, String)], paymentHeaders: [(String, String)], resource: String
    ) async -> PaidReply {
        guard let payments else { return PaidReply(reply: await endpoint.respond(route: route, body: body, headers: pipelineHeaders)) }
        let facts = PaymentGate.RequestFacts(body: body, legacyCompletions: route == .completions)
        switch await payments.authorize(facts, resource: resource, headers: paymentHeaders) {
        case .unpriced:
            // Not JSON, no model, or a model the registry does not serve (every served model is
            // priced, checked at start): the pipeline refuses it before any provider call.
            return PaidReply(reply: await endpoint.respond(route: route, body: body, headers: pipelineHeaders))
        case .refused(let status, let refusal, let headers):
            return PaidReply(reply: .json(status: status, body: refusal), headers: headers, paymentRefused: status == 402)
        case .granted(let charge):
            let reply = await endpoint.respond(route: route, body: body, headers: pipelineHeaders, charge: charge)
            var headers = charge.headers
            let served: Bool
            switch reply {
            case .json(let status, _, _): served = (200..<300).contains(status)
            case .eventStream: served = true
            }
            guard served else { return PaidReply(reply: reply, headers: headers) }
            do {
                headers += try await charge.settleBeforeRelease()
            } catch {
                logger.error("x402 settlement failed; answer withheld", metadata: ["reason": "\(error)"])
                let refusal = JSONWriter.serialize(["error": ["message": .string(error.description), "type": "payment_error"]], style: .compact)
                return PaidReply(reply: .json(status: error.status, body: refusal), paymentRefused: error.status == 402)
            }
            return PaidReply(reply: reply, headers: headers)
        }
    }

    /// The body, refused with 415 when it declares a non-JSON type and 413 past the limit (by
    /// `content-length` before reading, or while reading a chunked body).
    private func body(of request: Request, dialect: APIDialect) async throws -> Result<[UInt8], APIError> {
        if let contentType = request.headers[.contentType], !contentType.lowercased().hasPrefix("application/json") {
            return .failure(.unsupportedMediaType(contentType))
        }
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > maximumBodyBytes {
            return .failure(.bodyTooLarge(limit: maximumBodyBytes))
        }
        var bytes: [UInt8] = []
        for try await chunk in request.body {
            guard bytes.count + chunk.readableBytes <= maximumBodyBytes else {
                return .failure(.bodyTooLarge(limit: maximumBodyBytes))
            }
            bytes.append(contentsOf: chunk.readableBytesView)
        }
        return .success(bytes)
    }

    /// `GET /v1/models` in OpenAI's list shape.
    func modelsBody() -> [UInt8] {
        let models: [JSONValue] = endpoint.registry.modelIDs.map { id in
            let owner = (try? endpoint.registry.route(for: id).provider.name) ?? "unknown"
            return ["id": .string(id), "object": "model", "created": 0, "owned_by": .string(owner)]
        }
        return JSONWriter.serialize(["object": "list", "data": .array(models)], style: .compact)
    }

    private static func notReady(_ dialect: APIDialect) -> Response {
        response(.json(.unavailable("the worker is starting: it has not reached key-service yet", retryAfterSeconds: 1), dialect))
    }

    static func response(_ reply: WorkerReply) -> Response {
        switch reply {
        case .json(let status, let body, let retryAfterSeconds):
            var headers: HTTPFields = [.contentType: "application/json"]
            if let retryAfterSeconds { headers[.retryAfter] = String(retryAfterSeconds) }
            return Response(
                status: HTTPResponse.Status(code: status),
                headers: headers,
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: body))
            )
        case .eventStream(let frames):
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                body: ResponseBody(asyncSequence: frames.map { ByteBuffer(bytes: $0) })
            )
        }
    }
}

/// One line per refused or failed request (status 400 and up): method, path, status, duration.
/// Successful requests and health checks log at debug: at full load a line per answer cost the
/// worker and the supervisor, which relays every child's output, more than a tenth of their
/// CPU per answer (docs/performance.md); `worker_requests_total` counts every request by route
/// and status. Never bodies, headers or keys.
/// Unknown routes become the OpenAI-shaped 404 instead of Hummingbird's empty one, and a known
/// path with another method a 405 with `Allow`.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger
    let methodsByPath: [String: String]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let (method, path) = (request.method.rawValue, request.uri.path)
            if let allowed = methodsByPath[path] {
                let refused = APIError.methodNotAllowed(method: method, path: path, allowed: [allowed])
                var refusal = WorkerRoutes.response(.json(refused, .openAI))
                refusal.headers[.allow] = allowed
                response = refusal
            } else {
                response = WorkerRoutes.response(.json(.unknownPath(method: method, path: path), .openAI))
            }
        }
        let elapsed = ContinuousClock.now - started
        // Known routes only as the label: a raw path is client input, unbounded and possibly content.
        let route = methodsByPath[request.uri.path] != nil ? request.uri.path : "other"
        let labels = [("route", route), ("status", String(response.status.code))]
        Counter(label: "worker_requests_total", dimensions: labels).increment()
        Metrics.Timer(label: "worker_response_head_seconds", dimensions: [("route", route)]).recordNanoseconds(
            elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
        )
        logger.log(
            level: response.status.code >= 400 && request.uri.path != "/health" ? .info : .debug,
            "request",
            metadata: [
                "method": "\(request.method.rawValue)", "path": "\(request.uri.path)", "status": "\(response.status.code)",
                "duration_ms": "\(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)",
            ]
        )
        return response
    }
}

extension WorkerRoutes {
    /// The inference routes an OHTTP inner request may name, with their methods.
    static let innerMethodsByPath: [String: String] = methodsByPath.filter { path, _ in
        path == "/v1/models" || path == InferenceRequest.Route.countTokensPath || InferenceRequest.Route(path: path) != nil
    }

    /// Runs a decapsulated OHTTP inner request through the same handlers as the routes above:
    /// the same validation, provider call and signing, with no second HTTP hop. Errors come
    /// back as replies in the route's dialect, for the gateway to seal.
    func dispatch(_ inner: InnerRequest) async -> WorkerReply { await dispatch(inner, outerHeaders: [], resource: "/v1/ohttp").reply }

    /// `dispatch`, paid for by the outer request's payment headers (the relay pays, once).
    func dispatch(_ inner: InnerRequest, outerHeaders: [(String, String)], resource: String) async -> PaidReply {
        guard payments != nil, let route = InferenceRequest.Route(path: inner.path), inner.method == "POST" else {
            return PaidReply(reply: await dispatchUnpaid(inner))
        }
        if let contentType = inner.contentType, !contentType.lowercased().hasPrefix("application/json") {
            return PaidReply(reply: await dispatchUnpaid(inner))
        }
        guard identity.current != nil else { return PaidReply(reply: await dispatchUnpaid(inner)) }
        return await paidReply(route, body: inner.body, pipelineHeaders: inner.headers, paymentHeaders: outerHeaders, resource: resource)
    }

    private func dispatchUnpaid(_ inner: InnerRequest) async -> WorkerReply {
        let dialect = APIDialect(path: inner.path)
        guard let allowed = Self.innerMethodsByPath[inner.path] else {
            return .json(.unknownPath(method: inner.method, path: inner.path), dialect)
        }
        guard inner.method == allowed else {
            return .json(.methodNotAllowed(method: inner.method, path: inner.path, allowed: [allowed]), dialect)
        }
        if allowed == "POST", let contentType = inner.contentType, !contentType.lowercased().hasPrefix("application/json") {
            return .json(.unsupportedMediaType(contentType), dialect)
        }
        guard identity.current != nil else {
            return .json(.unavailable("the worker is starting: it has not reached key-service yet", retryAfterSeconds: 1), dialect)
        }
        if let route = InferenceRequest.Route(path: inner.path) {
            return await endpoint.respond(route: route, body: inner.body, headers: inner.headers)
        }
        if inner.path == InferenceRequest.Route.countTokensPath {
            return await endpoint.countTokens(body: inner.body, headers: inner.headers)
        }
        return .json(status: 200, body: modelsBody())
    }
}

/// An answer and the payment headers that go with it (`PAYMENT-REQUIRED`, `PAYMENT-RESPONSE`,
/// `X-Upto-Session`). `paymentRefused`: a 402 the client (or OHTTP relay) must see to pay.
struct PaidReply: Sendable {
    var reply: WorkerReply
    var headers: [(String, String)] = []
    var paymentRefused = false

    var response: Response {
        var response = WorkerRoutes.response(reply)
        Self.add(headers, to: &response)
        return response
    }

    static func add(_ headers: [(String, String)], to response: inout Response) {
        for (name, value) in headers {
            if let field = HTTPField.Name(name) { response.headers.append(HTTPField(name: field, value: value)) }
        }
    }
}
