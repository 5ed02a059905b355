import Foundation
import Hummingbird
import HummingbirdCore
import InferenceAPI

/// The responses tls-front writes itself. Errors are InferenceAPI's `APIError`, rendered in the
/// dialect of the path (Anthropic's shape under `/v1/messages`, OpenAI's elsewhere), so a client
/// sees the same error body whether tls-front or a worker refused its request.
enum FrontResponse {
    static func json(_ status: HTTPResponse.Status, _ value: some Encodable) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ error: APIError, path: String) -> Response {
        let dialect = APIDialect(path: path)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        if let retryAfter = error.retryAfterSeconds { headers[.retryAfter] = String(retryAfter) }
        return Response(
            status: HTTPResponse.Status(code: error.status),
            headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: error.body(dialect)))
        )
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
