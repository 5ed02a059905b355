import Foundation

/// Errors the proxy itself produces, in the shape the route's SDK parses, so a client shows the
/// reason instead of a parse failure: OpenAI `{"error":{"message","type","code"}}`, Anthropic
/// `{"type":"error","error":{"type","message"}}`.
public enum ErrorBody {
    public static func json(_ dialect: Dialect, status: Int, message: String) -> [UInt8] {
        let object: [String: Any] =
            switch dialect {
            case .openai:
                ["error": ["message": message, "type": openAIType(status), "code": code(status), "param": NSNull()] as [String: Any]]
            case .anthropic: ["type": "error", "error": ["type": anthropicType(status), "message": message] as [String: Any]]
            }
        return Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data())
    }

    /// The error event that ends a stream whose verification failed (instead of a clean end).
    public static func streamEvent(_ dialect: Dialect, message: String) -> String {
        let body = String(decoding: json(dialect, status: 502, message: message), as: UTF8.self)
        switch dialect {
        case .openai: return "data: \(body)\n\n"
        case .anthropic: return "event: error\ndata: \(body)\n\n"
        }
    }

    private static func code(_ status: Int) -> String {
        switch status {
        case 413: "request_too_large"
        case 502: "verification_failed"
        case 503: "shutting_down"
        default: "proxy_error"
        }
    }

    private static func openAIType(_ status: Int) -> String {
        status < 500 ? "invalid_request_error" : "confidential_proxy_error"
    }

    private static func anthropicType(_ status: Int) -> String {
        switch status {
        case 413: "request_too_large"
        case 400..<500: "invalid_request_error"
        case 503: "overloaded_error"
        default: "api_error"
        }
    }
}
