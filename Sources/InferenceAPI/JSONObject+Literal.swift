import GatewayCore

extension JSONObject {
    /// An object from a literal, in member order (GatewayCore's `JSONObject` takes no literal).
    static func with(_ members: KeyValuePairs<String, JSONValue>) -> JSONObject {
        JSONObject(members.map { ($0.key, $0.value) })
    }
}
