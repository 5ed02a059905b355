/// A JSON document as the client wrote it, faithful enough to reproduce Python's
/// `json.dumps(json.loads(text), sort_keys=True)` byte for byte.
///
/// Three things `Codable`/`JSONSerialization` lose and the signing contract needs:
/// - whether a number was written as an integer or a float (`1` hashes as `1`, `1.0` and `1e0`
///   as `1.0`), and integers of any size;
/// - the exact Unicode scalars of strings: Swift `String ==` treats canonically equivalent
///   strings as equal, Python does not, so keys are compared by their UTF-8 bytes here;
/// - object member order (Python dicts keep insertion order; unsorted dumps depend on it).
public enum JSONValue: Sendable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)
}

/// A JSON number that remembers whether it was an integer (any size) or a float.
public struct JSONNumber: Sendable, Hashable, CustomStringConvertible {
    enum Storage: Sendable, Hashable {
        /// Decimal digits with an optional leading `-`, normalized as Python prints `int`.
        case integer(String)
        case float(Double)
    }

    let storage: Storage

    init(storage: Storage) { self.storage = storage }

    public init(_ value: Int) { storage = .integer(String(value)) }

    /// A float value. Non-finite values cannot be represented in JSON; passing one is a
    /// programming error, because every parsed number is finite.
    public init(_ value: Double) {
        precondition(value.isFinite, "JSON cannot represent \(value)")
        storage = .float(value)
    }

    public var isInteger: Bool {
        if case .integer = storage { return true }
        return false
    }

    /// The value as Python's `float()` would see it (integers convert, possibly to infinity for
    /// integers beyond Double's range, which callers must range-check).
    public var doubleValue: Double {
        switch storage {
        case .integer(let digits): Double(digits) ?? (digits.hasPrefix("-") ? -.infinity : .infinity)
        case .float(let value): value
        }
    }

    /// The value when it is an integer that fits in `Int`; `nil` for floats and big integers.
    public var intValue: Int? {
        if case .integer(let digits) = storage { return Int(digits) }
        return nil
    }

    /// The text Python's `json.dumps` writes for this number.
    public var description: String {
        switch storage {
        case .integer(let digits): digits
        case .float(let value): PythonFloat.repr(value)
        }
    }
}

/// An ordered JSON object. Keys are unique by exact UTF-8 bytes; when a document repeats a key,
/// the last value wins at the first key's position, as in Python's `json.loads`.
public struct JSONObject: Sendable, Sequence {
    public private(set) var members: [(key: String, value: JSONValue)]

    public init() { members = [] }

    public init(_ members: [(String, JSONValue)]) {
        self.members = []
        for (key, value) in members { self[key] = value }
    }

    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }
    public var keys: [String] { members.map(\.key) }

    public func makeIterator() -> IndexingIterator<[(key: String, value: JSONValue)]> { members.makeIterator() }

    public subscript(key: String) -> JSONValue? {
        get { index(of: key).map { members[$0].value } }
        set {
            if let i = index(of: key) {
                if let newValue { members[i].value = newValue } else { members.remove(at: i) }
            } else if let newValue {
                members.append((key, newValue))
            }
        }
    }

    func index(of key: String) -> Int? {
        members.firstIndex { $0.key.utf8.elementsEqual(key.utf8) }
    }

    /// Appends without a duplicate check; the parser uses it after its own hashed check.
    mutating func appendUnchecked(_ key: String, _ value: JSONValue) { members.append((key, value)) }
    mutating func replaceValue(at index: Int, with value: JSONValue) { members[index].value = value }
}

extension JSONValue: Equatable {
    /// Exact equality: strings and keys by Unicode scalars, numbers by kind and value, objects by
    /// members in order.
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.number(let a), .number(let b)): a == b
        case (.string(let a), .string(let b)): a.utf8.elementsEqual(b.utf8)
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)):
            a.count == b.count
                && zip(a.members, b.members).allSatisfy { $0.key.utf8.elementsEqual($1.key.utf8) && $0.value == $1.value }
        default: false
        }
    }
}

// MARK: - Convenient access

extension JSONValue {
    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var numberValue: JSONNumber? {
        if case .number(let n) = self { return n }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// Python truthiness, which upstream's canonicalization uses to decide whether optional
    /// fields (`stop`, `tools`, `response_format`) are hashed: `null`, `false`, `0`, `0.0`, `""`,
    /// `[]` and `{}` are falsy.
    public var isTruthy: Bool {
        switch self {
        case .null: false
        case .bool(let b): b
        case .number(let n): n.doubleValue != 0
        case .string(let s): !s.isEmpty
        case .array(let a): !a.isEmpty
        case .object(let o): !o.isEmpty
        }
    }

    /// The JSON type name used in error messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number(let n): n.isInteger ? "integer" : "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(JSONNumber(value)) }
    public init(floatLiteral value: Double) { self = .number(JSONNumber(value)) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(JSONObject(elements)) }
    public init(nilLiteral: ()) { self = .null }
}
