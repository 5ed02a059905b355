import GatewayCore

/// Builds a deterministic JSON instance of a JSON Schema: the local model's tool arguments and
/// structured answers.
///
/// Covers what tool and response schemas use: `type` (or a list of types), `properties` (every
/// property is filled, so `required` and `additionalProperties: false` both hold), `items`
/// with `minItems`/`maxItems`, `enum`, `const`, `anyOf`/`oneOf`/`allOf` (first branch), local
/// `$ref`s into `$defs`/`definitions`, string `minLength`/`maxLength` and common `format`s,
/// and numeric `minimum`/`maximum`/exclusive bounds. `pattern` and `multipleOf` are not
/// solved. Strings carry `text` (the prompt's last user text) so answers visibly depend on the
/// prompt. Recursion stops at ``maxDepth`` with `null`.
struct SchemaInstance {
    static let maxDepth = 16
    let root: JSONValue
    let text: String

    func instance() -> JSONValue { instance(of: root, depth: 0) }

    private func instance(of schema: JSONValue, depth: Int) -> JSONValue {
        guard depth < Self.maxDepth else { return .null }
        if case .bool(let allowed) = schema { return allowed ? .string(text) : .null }
        if let constant = schema["const"] { return constant }
        if let first = schema["enum"]?.arrayValue?.first { return first }
        if let target = schema["$ref"]?.stringValue { return resolve(target).map { instance(of: $0, depth: depth + 1) } ?? .null }
        for key in ["anyOf", "oneOf", "allOf"] {
            if let branches = schema[key]?.arrayValue {
                let branch = branches.first { $0["type"]?.stringValue != "null" } ?? branches.first
                if let branch { return instance(of: branch, depth: depth + 1) }
            }
        }
        switch type(of: schema) {
        case "object":
            var object = JSONObject()
            for (name, property) in schema["properties"]?.objectValue ?? JSONObject() {
                object[name] = instance(of: property, depth: depth + 1)
            }
            return .object(object)
        case "array":
            let minimum = schema["minItems"]?.numberValue?.intValue ?? 1
            let count = min(max(minimum, 1), schema["maxItems"]?.numberValue?.intValue ?? Int.max, 64)
            let item = schema["items"] ?? .bool(true)
            return .array((0..<max(count, 0)).map { _ in instance(of: item, depth: depth + 1) })
        case "integer": return .number(JSONNumber(Int(number(schema, integer: true))))
        case "number": return .number(JSONNumber(number(schema, integer: false)))
        case "boolean": return true
        case "null": return .null
        default: return .string(string(schema))
        }
    }

    private func type(of schema: JSONValue) -> String {
        switch schema["type"] {
        case .string(let type): type
        case .array(let types): types.compactMap(\.stringValue).first { $0 != "null" } ?? "null"
        default: schema["properties"] != nil ? "object" : schema["items"] != nil ? "array" : "string"
        }
    }

    private func resolve(_ reference: String) -> JSONValue? {
        for prefix in ["#/$defs/", "#/definitions/"] where reference.hasPrefix(prefix) {
            let name = String(reference.dropFirst(prefix.count))
            return root[String(prefix.dropFirst(2).dropLast())]?[name]
        }
        return reference == "#" ? root : nil
    }

    private func number(_ schema: JSONValue, integer: Bool) -> Double {
        let step = integer ? 1.0 : 0.5
        var value = 0.0
        if let minimum = schema["minimum"]?.numberValue?.doubleValue { value = minimum }
        if let bound = schema["exclusiveMinimum"]?.numberValue?.doubleValue { value = max(value, bound + step) }
        if let maximum = schema["maximum"]?.numberValue?.doubleValue { value = min(value, maximum) }
        if let bound = schema["exclusiveMaximum"]?.numberValue?.doubleValue, value >= bound { value = bound - step }
        let result = integer ? value.rounded(.up) : value
        return result.isFinite && abs(result) < 1e15 ? result : 0
    }

    private func string(_ schema: JSONValue) -> String {
        var value: String
        switch schema["format"]?.stringValue {
        case "date": value = "2025-01-01"
        case "date-time": value = "2025-01-01T00:00:00Z"
        case "time": value = "00:00:00Z"
        case "email": value = "user@example.com"
        case "uri", "url": value = "https://example.com/"
        case "uuid": value = "00000000-0000-4000-8000-000000000000"
        default: value = text
        }
        if let maxLength = schema["maxLength"]?.numberValue?.intValue, maxLength >= 0, value.count > maxLength {
            value = String(value.prefix(maxLength))
        }
        if let minLength = schema["minLength"]?.numberValue?.intValue, value.count < minLength {
            value += String(repeating: "x", count: max(0, min(minLength, 4096) - value.count))
        }
        return value
    }
}
