#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A JSON object key. Messages are read with string keys so the reader can list and refuse
/// fields it does not know.
struct WireKey: CodingKey, Hashable {
    let stringValue: String
    var intValue: Int? { nil }

    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Strict reader for one JSON object of the key-service protocol: every present field must be
/// expected, every expected field present, typed as documented and within its limits. Errors
/// carry the field name so the peer's log says exactly what to fix.
struct WireReader {
    private let container: KeyedDecodingContainer<WireKey>

    init(_ container: KeyedDecodingContainer<WireKey>, fields: Set<String>) throws(KeyServiceProtocolError) {
        self.container = container
        if let unknown = container.allKeys.map(\.stringValue).filter({ !fields.contains($0) }).min() {
            throw KeyServiceProtocolError(.unknownField(unknown))
        }
    }

    static func container(of decoder: any Decoder) throws(KeyServiceProtocolError) -> KeyedDecodingContainer<WireKey> {
        do {
            return try decoder.container(keyedBy: WireKey.self)
        } catch {
            throw KeyServiceProtocolError(.notAnObject)
        }
    }

    func string(_ field: String, maximumBytes: Int) throws(KeyServiceProtocolError) -> String {
        let value = try decode(String.self, field, expected: "a string")
        guard value.utf8.count <= maximumBytes else {
            throw KeyServiceProtocolError(.invalidLength(field: field, expected: 0...maximumBytes, actual: value.utf8.count))
        }
        return value
    }

    func bytes(_ field: String, length: ClosedRange<Int>) throws(KeyServiceProtocolError) -> [UInt8] {
        let text = try decode(String.self, field, expected: "a base64 string")
        guard let data = Data(base64Encoded: text) else { throw KeyServiceProtocolError(.invalidBase64(field: field)) }
        guard length.contains(data.count) else {
            throw KeyServiceProtocolError(.invalidLength(field: field, expected: length, actual: data.count))
        }
        return Array(data)
    }

    func integer<T: FixedWidthInteger & Decodable>(_ field: String, as type: T.Type = T.self) throws(KeyServiceProtocolError) -> T {
        try decode(T.self, field, expected: "an integer from \(T.min) to \(T.max)")
    }

    func bool(_ field: String) throws(KeyServiceProtocolError) -> Bool {
        try decode(Bool.self, field, expected: "true or false")
    }

    func strings(_ field: String, maximumCount: Int, maximumBytes: Int) throws(KeyServiceProtocolError) -> [String] {
        let values = try decode([String].self, field, expected: "an array of strings")
        try Self.check(count: values.count, maximum: maximumCount, field: field)
        for value in values where value.utf8.count > maximumBytes {
            throw KeyServiceProtocolError(.invalidLength(field: field, expected: 0...maximumBytes, actual: value.utf8.count))
        }
        return values
    }

    func stringMap(_ field: String, maximumCount: Int) throws(KeyServiceProtocolError) -> [String: String] {
        let values = try decode([String: String].self, field, expected: "an object of string values")
        try Self.check(count: values.count, maximum: maximumCount, field: field)
        return values
    }

    func objects(_ field: String, maximumCount: Int, fields: Set<String>) throws(KeyServiceProtocolError) -> [WireReader] {
        try requirePresent(field)
        var readers: [WireReader] = []
        do {
            var array = try container.nestedUnkeyedContainer(forKey: WireKey(field))
            while !array.isAtEnd {
                try Self.check(count: readers.count + 1, maximum: maximumCount, field: field)
                readers.append(try WireReader(array.nestedContainer(keyedBy: WireKey.self), fields: fields))
            }
        } catch let error as KeyServiceProtocolError {
            throw error
        } catch {
            throw KeyServiceProtocolError(.wrongType(field: field, expected: "an array of objects"))
        }
        return readers
    }

    private func decode<T: Decodable>(_ type: T.Type, _ field: String, expected: String) throws(KeyServiceProtocolError) -> T {
        try requirePresent(field)
        do {
            return try container.decode(T.self, forKey: WireKey(field))
        } catch {
            throw KeyServiceProtocolError(.wrongType(field: field, expected: expected))
        }
    }

    private func requirePresent(_ field: String) throws(KeyServiceProtocolError) {
        guard container.contains(WireKey(field)) else { throw KeyServiceProtocolError(.missingField(field)) }
    }

    private static func check(count: Int, maximum: Int, field: String) throws(KeyServiceProtocolError) {
        guard count <= maximum else {
            throw KeyServiceProtocolError(.invalidValue(field: field, reason: "more than \(maximum) entries"))
        }
    }
}

/// Writes the fields of one JSON object; binary fields go out as padded base64.
struct WireWriter {
    private var container: KeyedEncodingContainer<WireKey>

    init(_ encoder: any Encoder) {
        container = encoder.container(keyedBy: WireKey.self)
    }

    init(_ container: KeyedEncodingContainer<WireKey>) {
        self.container = container
    }

    mutating func write<T: Encodable>(_ value: T, _ field: String) throws {
        try container.encode(value, forKey: WireKey(field))
    }

    mutating func write(bytes: [UInt8], _ field: String) throws {
        try container.encode(Data(bytes).base64EncodedString(), forKey: WireKey(field))
    }

    mutating func writeObjects<T>(_ values: [T], _ field: String, body: (inout WireWriter, T) throws -> Void) throws {
        var array = container.nestedUnkeyedContainer(forKey: WireKey(field))
        for value in values {
            var writer = WireWriter(array.nestedContainer(keyedBy: WireKey.self))
            try body(&writer, value)
        }
    }
}
