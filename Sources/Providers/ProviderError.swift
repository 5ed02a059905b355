/// Why a completion could not be produced (or finished) upstream.
///
/// The API layer turns these into HTTP statuses with ``httpStatus``; the mapping lives here so the
/// decision is made once, next to the causes. Messages never contain keys, prompts or completions.
public enum ProviderError: Error, Equatable, CustomStringConvertible {
    /// No key for `provider` has been injected yet.
    case missingCredentials(provider: String)
    /// Upstream answered 429; `retryAfter` is its `retry-after` header, passed through verbatim.
    case rateLimited(retryAfter: String?)
    /// Upstream answered a non-2xx status other than 429, with the message from its error body.
    case upstreamStatus(code: Int, message: String)
    /// Upstream reported an error inside an otherwise successful event stream.
    case upstreamError(message: String)
    /// Connecting to upstream (or to the egress proxy) failed, or the connection broke.
    case unreachable(reason: String)
    /// No byte arrived within the read timeout, the connect timeout passed, or the deadline did.
    case timeout
    /// Upstream sent something that is not its documented wire format.
    case malformedUpstream(reason: String)
    /// The request asks for something this provider cannot do (checked before any network call).
    case unsupported(reason: String)
    /// A request field this provider cannot carry (``ChatFieldPolicy``); `reason` names it.
    case unsupportedField(field: String, reason: String)
    /// The caller went away (client disconnect); the upstream request was cancelled.
    case cancelled

    /// The status the gateway answers with.
    ///
    /// Upstream 400/404/413/422 mean the client's request was refused on its merits, so the
    /// provider's message goes back as 400. Upstream 401/403 mean the gateway's key was rejected
    /// (nothing the client can fix): 502, with a message that says so and does not echo the
    /// provider's text. Every other upstream failure is 502, timeouts 504.
    public var httpStatus: Int {
        switch self {
        case .missingCredentials: 503
        case .rateLimited: 429
        case .upstreamStatus(let code, _): Self.isClientFault(code) ? 400 : 502
        case .upstreamError, .unreachable, .malformedUpstream: 502
        case .timeout: 504
        case .unsupported, .unsupportedField: 400
        case .cancelled: 499
        }
    }

    static func isClientFault(_ code: Int) -> Bool { [400, 404, 413, 422].contains(code) }

    public var description: String {
        switch self {
        case .missingCredentials(let provider):
            "no API key for provider '\(provider)' has been injected; inject it with POST /v1/keys"
        case .rateLimited(let retryAfter):
            "the upstream provider is rate limiting requests" + (retryAfter.map { "; retry after \($0)" } ?? "")
        case .upstreamStatus(let code, let message):
            switch code {
            case 401, 403: "the gateway's provider key was rejected by the upstream provider (HTTP \(code))"
            default: "upstream provider returned HTTP \(code): \(message)"
            }
        case .upstreamError(let message): "upstream provider reported an error mid-stream: \(message)"
        case .unreachable(let reason): "could not reach the upstream provider: \(reason)"
        case .timeout: "the upstream provider did not answer in time"
        case .malformedUpstream(let reason): "upstream provider sent an invalid response: \(reason)"
        case .unsupported(let reason): reason
        case .unsupportedField(_, let reason): reason
        case .cancelled: "the request was cancelled"
        }
    }
}
