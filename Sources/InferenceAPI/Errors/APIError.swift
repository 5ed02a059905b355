import GatewayCore

/// Every failure a client can see, in one type, so both dialects report the same facts.
///
/// The worker picks the constructor that names the cause and renders it with
/// ``APIError/body(_:)`` for the route's dialect; the HTTP status and `retry-after` header come
/// from ``status`` and ``retryAfterSeconds``. Messages are written for the person reading them in
/// an SDK exception: they name the field or the limit, never internal details.
public struct APIError: Error, Equatable, CustomStringConvertible {
    public let status: Int
    public let message: String
    /// OpenAI's `error.type` (`invalid_request_error`, `rate_limit_error`, …).
    public let openAIType: String
    /// OpenAI's `error.code` (`model_not_found`, …), `nil` when OpenAI would send `null`.
    public let code: String?
    /// OpenAI's `error.param`: the JSON path of the offending field.
    public let param: String?
    /// Anthropic's `error.type` (`invalid_request_error`, `not_found_error`, …).
    public let anthropicType: String
    /// Seconds for the `retry-after` header (429 and 503).
    public let retryAfterSeconds: Int?

    public init(
        status: Int, message: String, openAIType: String, code: String? = nil, param: String? = nil,
        anthropicType: String, retryAfterSeconds: Int? = nil
    ) {
        self.status = status
        self.message = message
        self.openAIType = openAIType
        self.code = code
        self.param = param
        self.anthropicType = anthropicType
        self.retryAfterSeconds = retryAfterSeconds
    }

    public var description: String { "\(status) \(openAIType): \(message)" }
}

// MARK: - The statuses of ARCHITECTURE §4

extension APIError {
    /// 400 for a body that fails validation; `param` is kept so SDKs can point at the field.
    public static func invalidRequest(_ error: InvalidRequest) -> APIError {
        APIError(
            status: 400, message: error.message, openAIType: "invalid_request_error", param: error.param,
            anthropicType: "invalid_request_error")
    }

    /// 400 for a body that is not JSON at all; the parser's message names line, column and byte.
    public static func malformedJSON(_ error: JSONParseError) -> APIError {
        APIError(
            status: 400, message: "The request body is \(error)", openAIType: "invalid_request_error",
            anthropicType: "invalid_request_error")
    }

    public static func unauthorized(_ message: String) -> APIError {
        APIError(
            status: 401, message: message, openAIType: "authentication_error", code: "invalid_api_key",
            anthropicType: "authentication_error")
    }

    public static func forbidden(_ message: String) -> APIError {
        APIError(status: 403, message: message, openAIType: "permission_error", anthropicType: "permission_error")
    }

    /// 404 that lists what the client can use instead, so a typo is fixed in one round trip.
    public static func unknownModel(_ model: String, available: [String]) -> APIError {
        let hint =
            available.isEmpty ? "no models are configured" : "available models: \(available.joined(separator: ", "))"
        return APIError(
            status: 404, message: "The model '\(model)' does not exist; \(hint) (GET /v1/models lists them)",
            openAIType: "invalid_request_error", code: "model_not_found", param: "model",
            anthropicType: "not_found_error")
    }

    public static func unknownPath(method: String, path: String) -> APIError {
        APIError(
            status: 404, message: "Unknown route \(method) \(path)", openAIType: "invalid_request_error",
            code: "unknown_url", anthropicType: "not_found_error")
    }

    public static func methodNotAllowed(method: String, path: String, allowed: [String]) -> APIError {
        APIError(
            status: 405, message: "\(method) is not allowed on \(path); use \(allowed.joined(separator: " or "))",
            openAIType: "invalid_request_error", code: "method_not_allowed", anthropicType: "invalid_request_error")
    }

    public static func bodyTooLarge(limit: Int) -> APIError {
        APIError(
            status: 413, message: "The request body exceeds the limit of \(limit) bytes",
            openAIType: "invalid_request_error", code: "request_too_large", anthropicType: "request_too_large")
    }

    public static func unsupportedMediaType(_ contentType: String?) -> APIError {
        APIError(
            status: 415,
            message: "Request must be application/json, not \(contentType ?? "a body without content-type")",
            openAIType: "invalid_request_error", code: "unsupported_media_type", anthropicType: "invalid_request_error")
    }

    /// 429 passed through from a provider, with its `retry-after` when it sent one.
    public static func rateLimited(_ message: String, retryAfterSeconds: Int?) -> APIError {
        APIError(
            status: 429, message: message, openAIType: "rate_limit_error", code: "rate_limit_exceeded",
            anthropicType: "rate_limit_error", retryAfterSeconds: retryAfterSeconds)
    }

    public static func internalError(_ message: String) -> APIError {
        APIError(status: 500, message: message, openAIType: "server_error", anthropicType: "api_error")
    }

    /// 502: the provider failed (5xx, malformed reply, dropped connection).
    public static func upstream(_ message: String) -> APIError {
        APIError(
            status: 502, message: message, openAIType: "server_error", code: "upstream_error",
            anthropicType: "api_error")
    }

    /// 503: the gateway cannot serve yet (booting, no provider key injected).
    public static func unavailable(_ message: String, retryAfterSeconds: Int? = nil) -> APIError {
        APIError(
            status: 503, message: message, openAIType: "server_error", code: "service_unavailable",
            anthropicType: "overloaded_error", retryAfterSeconds: retryAfterSeconds)
    }

    public static func upstreamTimeout(_ message: String) -> APIError {
        APIError(
            status: 504, message: message, openAIType: "server_error", code: "upstream_timeout",
            anthropicType: "api_error")
    }
}
