import GatewayCore

/// Reading pieces of an OpenAI chat request that the Anthropic, Gemini and local translations
/// all need. The API layer has validated the shape; these still never trap on odd input.
enum ChatContent {
    /// The text of a message's `content`: the string, or its text parts joined (other parts
    /// contribute nothing).
    static func text(_ content: JSONValue?) -> String {
        switch content {
        case .string(let text): text
        case .array(let parts): parts.compactMap { $0["type"]?.stringValue == "text" ? $0["text"]?.stringValue : nil }.joined()
        default: ""
        }
    }

    /// The texts of the system and developer messages, in order.
    static func systemText(_ messages: [JSONValue]) -> String {
        messages.filter { ["system", "developer"].contains($0["role"]?.stringValue) }.map { text($0["content"]) }
            .filter { !$0.isEmpty }.joined(separator: "\n\n")
    }

    /// `stop` as a list (the API accepts a string or an array of strings).
    static func stopSequences(_ request: JSONObject) -> [String] {
        switch request["stop"] {
        case .string(let stop): [stop]
        case .array(let stops): stops.compactMap(\.stringValue)
        default: []
        }
    }

    /// The client's output-token limit, whichever spelling it used.
    static func maxTokens(_ request: JSONObject) -> Int? {
        request["max_completion_tokens"]?.numberValue?.intValue ?? request["max_tokens"]?.numberValue?.intValue
    }

    /// Rejects `n` other than 1: the gateway returns and signs exactly one answer.
    static func requireSingleChoice(_ request: JSONObject) throws(ProviderError) {
        if let n = request["n"], !n.isNull, n.numberValue?.intValue != 1 {
            throw .unsupported(reason: "n must be 1: the gateway returns and signs exactly one answer per request")
        }
    }

    /// A tool call's `arguments` JSON text as an object (providers other than OpenAI want one).
    static func arguments(_ text: String?, callID: String) throws(ProviderError) -> JSONValue {
        let text = text ?? ""
        if text.allSatisfy(\.isWhitespace) { return .object(JSONObject()) }
        guard let value = try? JSONParser().parse(text), value.objectValue != nil else {
            throw .unsupported(reason: "assistant tool call '\(callID)' has arguments that are not a JSON object")
        }
        return value
    }
}

/// A `data:<media type>;base64,<data>` URL, as clients send inline images.
struct DataURL: Equatable {
    var mediaType: String
    var base64: String

    init?(_ url: String) {
        guard url.hasPrefix("data:"), let marker = url.range(of: ";base64,") else { return nil }
        let mediaType = url[url.index(url.startIndex, offsetBy: 5)..<marker.lowerBound]
        guard !mediaType.isEmpty else { return nil }
        self.mediaType = String(mediaType)
        base64 = String(url[marker.upperBound...])
    }
}
