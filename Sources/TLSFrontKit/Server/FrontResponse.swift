import Foundation
import Hummingbird
import HummingbirdCore

/// The JSON responses tls-front writes itself. Errors use the OpenAI shape
/// (`{"error":{"message","type","code","param"}}`, ARCHITECTURE §4) because most clients of
/// this port are OpenAI SDKs that surface `error.message` to the user.
enum FrontResponse {
    private struct ErrorBody: Encodable {
        struct Detail: Encodable {
            let message: String
            let type: String
            let code: Int
            let param: String?

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(message, forKey: .message)
                try container.encode(type, forKey: .type)
                try container.encode(code, forKey: .code)
                try container.encode(param, forKey: .param)
            }

            enum CodingKeys: String, CodingKey { case message, type, code, param }
        }

        let error: Detail
    }

    static func json(_ status: HTTPResponse.Status, _ value: some Encodable) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ status: HTTPResponse.Status, _ message: String, type: String) -> Response {
        json(status, ErrorBody(error: .init(message: message, type: type, code: status.code, param: nil)))
    }

    static func tooLarge(limit: Int) -> Response {
        error(.contentTooLarge, "request body exceeds the \(limit)-byte limit", type: "invalid_request_error")
    }

    static func text(_ status: HTTPResponse.Status, _ text: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

extension ResponseWriter {
    consuming func write(response: Response) async throws {
        try await write(response: response.head, body: response.body)
    }
}
