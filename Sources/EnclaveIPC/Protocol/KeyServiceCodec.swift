// Key-service wire format
// =======================
//
// Each frame (u32 big-endian length + payload, see `Framing`) carries one UTF-8 JSON object:
//
//   request   {"id":7,"type":"signInference","requestHash":"<base64>","outputHash":"<base64>"}
//   success   {"id":7,"type":"signInference","timestamp":1714000000,"signature":"<base64>"}
//   failure   {"id":7,"type":"error","code":"forbidden","message":"…"}
//
// - `type` is the operation name (`KeyServiceOperation`); a success response repeats it, a
//   failure says `error` with a `KeyServiceError.Code`.
// - `id` is chosen by the client, 1 or more, unique among its in-flight requests on one
//   connection; the response echoes it, so responses may come back in any order and one
//   connection carries many concurrent requests. A response with id 0 reports a request whose
//   id could not be read (the client treats it as a broken connection).
// - Binary fields are padded base64 strings. Field names are the Swift property names.
// - Decoding is strict: unknown `type`, unknown or missing fields, wrong JSON types and byte
//   lengths outside each field's limit are errors (`KeyServiceProtocolError`).
//
// Why JSON rather than a bespoke binary layout: both ends are ours, but operators read these
// messages in logs and debug them with `socat` and `jq`; JSON needs no second schema language,
// and with strict decoding it rejects as much as a binary format would. The cost is base64 on
// OHTTP bodies (512 KiB becomes ~683 KiB), well inside the 1 MiB frame limit, and parsing time
// that is small next to the RSA and HPKE work each request triggers.

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore

/// Turns requests and responses into frame payloads and back.
enum KeyServiceCodec {
    // `signInference` and `ohttpOpen`, sent once per request, take `HotPathWire`'s fast path:
    // the same bytes.

    static func encode(_ request: KeyServiceRequest, id: UInt64) throws(KeyServiceProtocolError) -> ByteBuffer {
        if let fast = HotPathWire.encode(request, id: id) { return fast }
        return try encode(RequestMessage(id: id, request: request))
    }

    static func encode(_ response: KeyServiceResponse, id: UInt64) throws(KeyServiceProtocolError) -> ByteBuffer {
        if let fast = HotPathWire.encode(response, id: id) { return fast }
        return try encode(ResponseMessage(id: id, response: response))
    }

    static func decodeRequest(_ payload: ByteBuffer) throws(KeyServiceProtocolError) -> (id: UInt64, request: KeyServiceRequest) {
        if let fast = HotPathWire.decodeRequest(payload) { return fast }
        let message = try decode(RequestMessage.self, from: payload)
        return (message.id, message.request)
    }

    static func decodeResponse(_ payload: ByteBuffer) throws(KeyServiceProtocolError) -> (id: UInt64, response: KeyServiceResponse) {
        if let fast = HotPathWire.decodeResponse(payload) { return fast }
        let message = try decode(ResponseMessage.self, from: payload)
        return (message.id, message.response)
    }

    /// The general path alone (the tests compare the fast path with it).
    static func encodeGenerally(_ request: KeyServiceRequest, id: UInt64) throws(KeyServiceProtocolError) -> ByteBuffer {
        try encode(RequestMessage(id: id, request: request))
    }

    static func encodeGenerally(_ response: KeyServiceResponse, id: UInt64) throws(KeyServiceProtocolError) -> ByteBuffer {
        try encode(ResponseMessage(id: id, response: response))
    }

    static func decodeGenerally(request payload: ByteBuffer) throws(KeyServiceProtocolError) -> (id: UInt64, request: KeyServiceRequest) {
        let message = try decode(RequestMessage.self, from: payload)
        return (message.id, message.request)
    }

    static func decodeGenerally(response payload: ByteBuffer) throws(KeyServiceProtocolError) -> (id: UInt64, response: KeyServiceResponse) {
        let message = try decode(ResponseMessage.self, from: payload)
        return (message.id, message.response)
    }

    private static func encode<Message: Encodable>(_ message: Message) throws(KeyServiceProtocolError) -> ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return ByteBuffer(bytes: try encoder.encode(message))
        } catch {
            throw KeyServiceProtocolError(.invalidValue(field: "message", reason: "could not be encoded: \(error)"))
        }
    }

    private static func decode<Message: Decodable>(
        _ type: Message.Type,
        from payload: ByteBuffer
    ) throws(KeyServiceProtocolError) -> Message {
        do {
            return try JSONDecoder().decode(Message.self, from: Data(payload.readableBytesView))
        } catch let error as KeyServiceProtocolError {
            throw error
        } catch DecodingError.dataCorrupted(let context) {
            throw KeyServiceProtocolError(.notJSON(context.debugDescription))
        } catch {
            throw KeyServiceProtocolError(.notJSON("\(error)"))
        }
    }
}

/// Reads the `id` and `type` every message starts with, then the fields that `type` allows.
/// Problems found after the id was read carry it, so the peer can be answered under that id.
private struct MessageHeader {
    let id: UInt64
    let type: String
    private let container: KeyedDecodingContainer<WireKey>
    /// Reads any field without checking for unknown ones; only for what selects the schema.
    private let selector: WireReader

    init(_ decoder: any Decoder) throws(KeyServiceProtocolError) {
        container = try WireReader.container(of: decoder)
        selector = try WireReader(container, fields: Set(container.allKeys.map(\.stringValue)))
        id = try selector.integer("id")
        do {
            type = try selector.string("type", maximumBytes: 64)
        } catch {
            throw KeyServiceProtocolError(id: id, error.problem)
        }
    }

    /// The `domain` of a `signRecord` request, which decides the rest of its fields.
    func recordDomain() throws(KeyServiceProtocolError) -> String {
        try withID { () throws(KeyServiceProtocolError) in
            let domain = try selector.string("domain", maximumBytes: 64)
            guard SignableRecord.fields[domain] != nil else {
                throw KeyServiceProtocolError(.invalidValue(field: "domain", reason: "unknown record domain '\(domain)'"))
            }
            return domain
        }
    }

    func body<T>(fields: Set<String>, _ read: (WireReader) throws(KeyServiceProtocolError) -> T) throws(KeyServiceProtocolError) -> T {
        try withID { () throws(KeyServiceProtocolError) in
            try read(WireReader(container, fields: fields.union(["id", "type"])))
        }
    }

    private func withID<T>(_ body: () throws(KeyServiceProtocolError) -> T) throws(KeyServiceProtocolError) -> T {
        do {
            return try body()
        } catch {
            throw KeyServiceProtocolError(id: id, error.problem)
        }
    }
}

private struct RequestMessage: Codable {
    let id: UInt64
    let request: KeyServiceRequest

    init(id: UInt64, request: KeyServiceRequest) {
        self.id = id
        self.request = request
    }

    init(from decoder: any Decoder) throws {
        let header = try MessageHeader(decoder)
        guard header.id != 0 else {
            throw KeyServiceProtocolError(.invalidValue(field: "id", reason: "0 is reserved for errors about unreadable requests"))
        }
        guard let operation = KeyServiceOperation(rawValue: header.type) else {
            throw KeyServiceProtocolError(id: header.id, .unknownType(header.type))
        }
        let domain = operation == .signRecord ? try header.recordDomain() : nil
        id = header.id
        request = try header.body(fields: KeyServiceRequest.fields(of: operation, domain: domain)) {
            reader throws(KeyServiceProtocolError) in try KeyServiceRequest(operation, from: reader)
        }
    }

    func encode(to encoder: any Encoder) throws {
        var writer = WireWriter(encoder)
        try writer.write(id, "id")
        try writer.write(request.operation.rawValue, "type")
        try request.write(to: &writer)
    }
}

private struct ResponseMessage: Codable {
    let id: UInt64
    let response: KeyServiceResponse

    init(id: UInt64, response: KeyServiceResponse) {
        self.id = id
        self.response = response
    }

    init(from decoder: any Decoder) throws {
        let header = try MessageHeader(decoder)
        guard let fields = KeyServiceResponse.fields(ofType: header.type) else {
            throw KeyServiceProtocolError(id: header.id, .unknownType(header.type))
        }
        id = header.id
        response = try header.body(fields: fields) { reader throws(KeyServiceProtocolError) in
            try KeyServiceResponse(type: header.type, from: reader)
        }
    }

    func encode(to encoder: any Encoder) throws {
        var writer = WireWriter(encoder)
        try writer.write(id, "id")
        try writer.write(response.type, "type")
        try response.write(to: &writer)
    }
}
