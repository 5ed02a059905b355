import GatewayCore
import InferenceAPI
import Providers

extension APIError {
    /// The client-facing error for a provider failure, with the status `ProviderError.httpStatus`
    /// decides (429 keeps the provider's `retry-after` when it is whole seconds).
    static func provider(_ error: ProviderError) -> APIError {
        switch error {
        case .rateLimited(let retryAfter):
            .rateLimited(error.description, retryAfterSeconds: retryAfter.flatMap { Int($0) })
        case .timeout:
            .upstreamTimeout(error.description)
        case .missingCredentials:
            .unavailable(error.description)
        case .unsupported:
            .invalidRequest(InvalidRequest(error.description))
        case .unsupportedField(let field, _):
            .invalidRequest(InvalidRequest(error.description, param: field))
        case .upstreamStatus where error.httpStatus == 400:
            .invalidRequest(InvalidRequest(error.description))
        case .upstreamStatus, .upstreamError, .unreachable, .malformedUpstream, .cancelled:
            .upstream(error.description)
        }
    }
}
