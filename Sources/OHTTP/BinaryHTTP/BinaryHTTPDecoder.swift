/// Decoding of known-length (framing indicator 0/1) and indeterminate-length (2/3) messages
/// (RFC 9292 §3). Truncation is accepted exactly where §3.8 allows it — before the header
/// section, the content or the trailer section of the final message — and trailing padding
/// must be zero bytes.
extension BinaryHTTPRequest {
    public init(decoding bytes: [UInt8], limits: BinaryHTTPLimits = .default) throws(BinaryHTTPError) {
        var decoder = try BinaryHTTPDecoder(bytes, limits: limits, request: true)
        let method = try decoder.controlData(.method)
        let scheme = try decoder.controlData(.scheme)
        let authority = try decoder.controlData(.authority)
        let path = try decoder.controlData(.path)
        let parts = try decoder.finalParts()
        try ControlDataField.checkContentLength(parts.headerFields, contentCount: parts.content.count)
        self.init(
            method: method, scheme: scheme, authority: authority, path: path,
            headerFields: parts.headerFields, content: parts.content, trailerFields: parts.trailerFields)
    }
}

extension BinaryHTTPResponse {
    public init(decoding bytes: [UInt8], limits: BinaryHTTPLimits = .default) throws(BinaryHTTPError) {
        var decoder = try BinaryHTTPDecoder(bytes, limits: limits, request: false)
        var informational: [Informational] = []
        while true {
            let offset = decoder.reader.offset
            let status = try decoder.reader.varint("status code")
            switch status {
            case 100...199:
                guard informational.count < limits.maxInformationalResponses else {
                    throw .limitExceeded(
                        what: "informational responses", limit: limits.maxInformationalResponses,
                        actual: UInt64(informational.count + 1), offset: offset)
                }
                let fields = try decoder.fieldSection(.header)
                informational.append(Informational(status: Int(status), headerFields: fields))
            case 200...599:
                let parts = try decoder.finalParts()
                self.init(
                    status: Int(status), headerFields: parts.headerFields, content: parts.content,
                    trailerFields: parts.trailerFields, informationalResponses: informational)
                return
            default:
                throw .invalidStatus(status, expected: 100...599, offset: offset)
            }
        }
    }
}

struct BinaryHTTPDecoder {
    typealias FinalParts = (headerFields: [HTTPField], content: [UInt8], trailerFields: [HTTPField])

    var reader: ByteReader<BinaryHTTPError>
    private let limits: BinaryHTTPLimits
    private let knownLength: Bool

    init(_ bytes: [UInt8], limits: BinaryHTTPLimits, request: Bool) throws(BinaryHTTPError) {
        reader = ByteReader(bytes)
        self.limits = limits
        let indicator = try reader.varint("framing indicator")
        guard indicator <= 3 else { throw .invalidFramingIndicator(indicator) }
        guard (indicator % 2 == 0) == request else {
            throw .unexpectedMessageKind(expected: request ? "request" : "response", framingIndicator: indicator)
        }
        knownLength = indicator < 2
    }

    /// Continues after a framing indicator the caller already read (the streaming reader).
    init(continuing reader: ByteReader<BinaryHTTPError>, limits: BinaryHTTPLimits, knownLength: Bool) {
        self.reader = reader
        self.limits = limits
        self.knownLength = knownLength
    }

    mutating func controlData(_ field: ControlDataField) throws(BinaryHTTPError) -> String {
        let offset = reader.offset
        let length = try reader.varint("\(field) length")
        try check(length, limit: limits.maxControlDataLength, what: "\(field) length", offset: offset)
        let bytes = try reader.bytes(length, field.rawValue)
        guard field.isValid(bytes) else { throw .invalidControlData(field: field.rawValue, offset: offset) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Header section, content and trailer section of the final message, then padding.
    mutating func finalParts() throws(BinaryHTTPError) -> FinalParts {
        let headerFields = reader.isAtEnd ? [] : try fieldSection(.header)
        let content = reader.isAtEnd ? [] : try content()
        let trailerFields = reader.isAtEnd ? [] : try fieldSection(.trailer)
        let paddingStart = reader.offset
        if let index = reader.rest().firstIndex(where: { $0 != 0 }) {
            throw .nonZeroPadding(offset: paddingStart + index)
        }
        return (headerFields, content, trailerFields)
    }

    mutating func fieldSection(_ section: FieldValidator.Section) throws(BinaryHTTPError) -> [HTTPField] {
        let name = section == .header ? "header section" : "trailer section"
        var validator = FieldValidator(section)
        var fields: [HTTPField] = []
        let start = reader.offset
        if knownLength {
            let length = try reader.varint("\(name) length")
            try check(length, limit: limits.maxFieldSectionLength, what: "\(name) length", offset: start)
            var section = try reader.subreader(length, name)
            while !section.isAtEnd {
                fields.append(try fieldLine(&section, validator: &validator, count: fields.count))
            }
        } else {
            while true {
                guard let field = try indeterminateFieldLine(&validator, count: fields.count) else { break }
                fields.append(field)
                let consumed = UInt64(reader.offset - start)
                try check(consumed, limit: limits.maxFieldSectionLength, what: "\(name) size", offset: start)
            }
        }
        return fields
    }

    /// In an indeterminate-length section a zero name length is the terminator.
    private mutating func indeterminateFieldLine(
        _ validator: inout FieldValidator, count: Int
    ) throws(BinaryHTTPError) -> HTTPField? {
        var peek = reader
        guard try peek.varint("field name length") != 0 else {
            reader = peek
            return nil
        }
        return try fieldLine(&reader, validator: &validator, count: count)
    }

    private func fieldLine(
        _ section: inout ByteReader<BinaryHTTPError>, validator: inout FieldValidator, count: Int
    ) throws(BinaryHTTPError) -> HTTPField {
        let offset = section.offset
        try check(UInt64(count + 1), limit: limits.maxFieldCount, what: "field count", offset: offset)
        let nameLength = try section.varint("field name length")
        guard nameLength > 0 else { throw .invalidFieldName("", offset: offset) }
        try check(nameLength, limit: limits.maxFieldSectionLength, what: "field name length", offset: offset)
        let name = try section.bytes(nameLength, "field name")
        let valueOffset = section.offset
        let valueLength = try section.varint("field value length")
        try check(valueLength, limit: limits.maxFieldSectionLength, what: "field value length", offset: valueOffset)
        let value = try section.bytes(valueLength, "field value")
        return try validator.field(name: name, value: value, offset: offset)
    }

    private mutating func content() throws(BinaryHTTPError) -> [UInt8] {
        let start = reader.offset
        if knownLength {
            let length = try reader.varint("content length")
            try check(length, limit: limits.maxContentLength, what: "content length", offset: start)
            return try reader.bytes(length, "content")
        }
        var content: [UInt8] = []
        while true {
            let offset = reader.offset
            let length = try reader.varint("content chunk length")
            guard length > 0 else { return content }
            try check(
                UInt64(content.count) + length, limit: limits.maxContentLength, what: "content length", offset: offset)
            content += try reader.bytes(length, "content chunk")
        }
    }

    private func check(_ value: UInt64, limit: Int, what: String, offset: Int) throws(BinaryHTTPError) {
        guard value <= UInt64(limit) else {
            throw .limitExceeded(what: what, limit: limit, actual: value, offset: offset)
        }
    }
}
