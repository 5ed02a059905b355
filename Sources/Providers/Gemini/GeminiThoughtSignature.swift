/// Carries a Gemini `thoughtSignature` through the OpenAI dialect, which has no field for it.
///
/// Gemini 3 attaches an opaque signature to a `functionCall` part and rejects the next turn when
/// the replayed call lacks it. OpenAI clients echo a tool call's `id` verbatim (in the assistant
/// message and in the `tool` message's `tool_call_id`), so the gateway appends the signature to
/// the id: `<call id>__ts__<signature in base64url, no padding>`. The base64url alphabet keeps the
/// id within `[A-Za-z0-9_-]`, which clients and other providers accept as an id. On replay the
/// suffix is split off and sent as the part's `thoughtSignature` again (standard base64).
public enum GeminiThoughtSignature {
    static let marker = "__ts__"

    /// The id a client sees for a call with this signature.
    public static func join(_ id: String, signature: String?) -> String {
        guard let signature, !signature.isEmpty else { return id }
        let url = String(signature.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 }.filter { $0 != "=" })
        return id + marker + url
    }

    /// The original id and signature (standard base64, padded) of an id built by ``join(_:signature:)``.
    public static func split(_ id: String) -> (id: String, signature: String?) {
        guard let range = id.range(of: marker) else { return (id, nil) }
        var signature = String(id[range.upperBound...].map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        guard !signature.isEmpty else { return (id, nil) }
        while signature.count % 4 != 0 { signature += "=" }
        return (String(id[..<range.lowerBound]), signature)
    }
}
