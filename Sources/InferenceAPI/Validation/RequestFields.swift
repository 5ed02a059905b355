import GatewayCore

/// Typed, path-aware reads from one JSON object of a request body.
///
/// Every accessor throws ``InvalidRequest`` naming the full JSON path (`messages[2].content`), the
/// expected type or range and what was sent, so a 400 tells the client exactly what to fix.
/// An explicit `null` counts as absent for optional fields, as OpenAI's API treats it.
struct RequestFields {
    let object: JSONObject
    /// Path of this object inside the body; empty at the top level.
    let path: String

    init(_ object: JSONObject, path: String = "") {
        self.object = object
        self.path = path
    }

    /// Wraps a value that must be an object.
    init(_ value: JSONValue, path: String) throws(InvalidRequest) {
        guard case .object(let object) = value else { throw Self.typeError(path, expected: "an object", got: value) }
        self.init(object, path: path)
    }

    func param(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The value, or `nil` when absent or `null`.
    subscript(key: String) -> JSONValue? {
        guard let value = object[key], !value.isNull else { return nil }
        return value
    }

    func required(_ key: String) throws(InvalidRequest) -> JSONValue {
        guard let value = self[key] else {
            throw InvalidRequest("'\(param(key))' is a required property", param: param(key))
        }
        return value
    }

    func string(_ key: String) throws(InvalidRequest) -> String? {
        guard let value = self[key] else { return nil }
        guard case .string(let string) = value else {
            throw Self.typeError(param(key), expected: "a string", got: value)
        }
        return string
    }

    func requiredString(_ key: String) throws(InvalidRequest) -> String {
        guard let string = try string(key) else {
            throw InvalidRequest("'\(param(key))' is a required property", param: param(key))
        }
        return string
    }

    /// A string from a closed set, as OpenAI and Anthropic enums.
    func choice(_ key: String, _ allowed: [String]) throws(InvalidRequest) -> String? {
        guard let string = try string(key) else { return nil }
        guard allowed.contains(string) else {
            throw InvalidRequest(
                "Invalid value for '\(param(key))': '\(string)'; expected one of \(allowed.map { "'\($0)'" }.joined(separator: ", "))",
                param: param(key))
        }
        return string
    }

    func bool(_ key: String) throws(InvalidRequest) -> Bool? {
        guard let value = self[key] else { return nil }
        guard case .bool(let bool) = value else { throw Self.typeError(param(key), expected: "a boolean", got: value) }
        return bool
    }

    func number(_ key: String, in range: ClosedRange<Double>) throws(InvalidRequest) -> Double? {
        guard let value = self[key] else { return nil }
        guard case .number(let number) = value else {
            throw Self.typeError(param(key), expected: "a number", got: value)
        }
        let double = number.doubleValue
        guard range.contains(double) else {
            throw InvalidRequest(
                "Invalid '\(param(key))': expected a value between \(Self.format(range.lowerBound)) and \(Self.format(range.upperBound)), but got \(number)",
                param: param(key))
        }
        return double
    }

    func integer(_ key: String, atLeast minimum: Int) throws(InvalidRequest) -> Int? {
        guard let value = self[key] else { return nil }
        guard case .number(let number) = value, number.isInteger else {
            throw Self.typeError(param(key), expected: "an integer", got: value)
        }
        guard let int = number.intValue else {
            throw InvalidRequest(
                "Invalid '\(param(key))': \(number) does not fit in a 64-bit integer", param: param(key))
        }
        guard int >= minimum else {
            throw InvalidRequest(
                "Invalid '\(param(key))': expected a value >= \(minimum), but got \(number)", param: param(key))
        }
        return int
    }

    func array(_ key: String) throws(InvalidRequest) -> [JSONValue]? {
        guard let value = self[key] else { return nil }
        guard case .array(let array) = value else { throw Self.typeError(param(key), expected: "an array", got: value) }
        return array
    }

    func fields(_ key: String) throws(InvalidRequest) -> RequestFields? {
        guard let value = self[key] else { return nil }
        return try RequestFields(value, path: param(key))
    }

    func requiredFields(_ key: String) throws(InvalidRequest) -> RequestFields {
        try RequestFields(try required(key), path: param(key))
    }

    static func typeError(_ param: String, expected: String, got value: JSONValue) -> InvalidRequest {
        InvalidRequest("Invalid type for '\(param)': expected \(expected), but got \(value.typeName)", param: param)
    }

    /// `2` rather than `2.0` in messages, as OpenAI writes its bounds.
    private static func format(_ bound: Double) -> String {
        bound == bound.rounded() ? String(Int(bound)) : String(bound)
    }
}

/// The JSON schema pattern `^[a-zA-Z0-9_-]{1,64}$` both vendors require of tool (and OpenAI of
/// schema) names: providers reject anything else, so we do before calling them.
func isValidToolName(_ name: String) -> Bool {
    (1...64).contains(name.utf8.count)
        && name.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == 0x5F
                || byte == 0x2D
        }
}
