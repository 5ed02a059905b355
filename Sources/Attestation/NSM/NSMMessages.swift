/// A request to the Nitro Secure Module, encoded as aws-nitro-enclaves-nsm-api's serde
/// encoding of its `Request` enum: struct variants become `{"Variant": {field: value}}` with
/// fields in declaration order, unit variants become the bare string, `None` becomes null.
public enum NSMRequest: Sendable, Equatable {
    case attestation(userData: [UInt8]?, nonce: [UInt8]?, publicKey: [UInt8]?)
    case describePCR(index: UInt16)
    case getRandom

    public func encoded() -> [UInt8] {
        let optional = { (value: [UInt8]?) -> CBOR in value.map { .bytes($0) } ?? .null }
        let item: CBOR
        switch self {
        case .attestation(let userData, let nonce, let publicKey):
            item = .map([
                CBORMapEntry(
                    .text("Attestation"),
                    .map([
                        CBORMapEntry(.text("user_data"), optional(userData)),
                        CBORMapEntry(.text("nonce"), optional(nonce)),
                        CBORMapEntry(.text("public_key"), optional(publicKey)),
                    ])
                )
            ])
        case .describePCR(let index):
            item = .map([
                CBORMapEntry(.text("DescribePCR"), .map([CBORMapEntry(.text("index"), .unsigned(UInt64(index)))]))
            ])
        case .getRandom:
            item = .text("GetRandom")
        }
        return item.encoded()
    }
}

/// The NSM's error codes (nsm-api `ErrorCode`), sent as `{"Error": "Name"}`.
public enum NSMErrorCode: String, Sendable, Equatable {
    case success = "Success"
    case invalidArgument = "InvalidArgument"
    case invalidIndex = "InvalidIndex"
    case invalidResponse = "InvalidResponse"
    case readOnlyIndex = "ReadOnlyIndex"
    case invalidOperation = "InvalidOperation"
    case bufferTooSmall = "BufferTooSmall"
    case inputTooLarge = "InputTooLarge"
    case internalError = "InternalError"
}

/// A response from the NSM for the three requests this library sends.
public enum NSMResponse: Sendable, Equatable {
    case attestation(document: [UInt8])
    case describePCR(lock: Bool, data: [UInt8])
    case getRandom(random: [UInt8])
    case error(NSMErrorCode)

    /// The nsm-api variant name, for messages about an unexpected answer.
    public var variant: String {
        switch self {
        case .attestation: "Attestation"
        case .describePCR: "DescribePCR"
        case .getRandom: "GetRandom"
        case .error: "Error"
        }
    }

    public init(decoding bytes: [UInt8]) throws(NSMError) {
        let item: CBOR
        do { item = try CBORDecoder.decode(bytes) } catch { throw .malformedResponse("\(error)") }
        guard case .map(let outer) = item, outer.count == 1, case .text(let variant) = outer[0].key else {
            throw .malformedResponse("expected a map with one variant name, found \(item.typeName)")
        }
        let body = outer[0].value
        switch variant {
        case "Attestation":
            self = .attestation(document: try Self.bytes("document", in: body, variant: variant))
        case "DescribePCR":
            guard case .bool(let lock)? = body["lock"] else {
                throw .malformedResponse("DescribePCR.lock is missing or not a boolean")
            }
            self = .describePCR(lock: lock, data: try Self.bytes("data", in: body, variant: variant))
        case "GetRandom":
            self = .getRandom(random: try Self.bytes("random", in: body, variant: variant))
        case "Error":
            guard case .text(let name) = body, let code = NSMErrorCode(rawValue: name) else {
                throw .malformedResponse("Error carries an unknown code (\(body.typeName))")
            }
            self = .error(code)
        default:
            throw .malformedResponse("unknown response variant \"\(variant)\"")
        }
    }

    private static func bytes(_ field: String, in body: CBOR, variant: String) throws(NSMError) -> [UInt8] {
        guard case .bytes(let data)? = body[field] else {
            throw .malformedResponse("\(variant).\(field) is missing or not a byte string")
        }
        return data
    }
}
