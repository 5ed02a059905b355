/// Known-length encoding (RFC 9292 §3.1). Trailing empty parts (trailers, then content, then
/// header section) are truncated as §3.8 allows, which reproduces the RFC 9458 Appendix A
/// messages byte for byte. Every field goes through the same validation as decoding, so the
/// encoder never produces a message our own decoder would refuse.
extension BinaryHTTPRequest {
    public func encoded() throws(BinaryHTTPError) -> [UInt8] {
        var writer = BinaryHTTPWriter()
        try writer.varint(0)
        for (field, value) in zip(ControlDataField.allCases, [method, scheme, authority, path]) {
            let bytes = Array(value.utf8)
            guard field.isValid(bytes) else { throw .invalidControlData(field: field.rawValue, offset: nil) }
            try writer.lengthPrefixed(bytes)
        }
        try ControlDataField.checkContentLength(headerFields, contentCount: content.count)
        try writer.finalParts(headerFields: headerFields, content: content, trailerFields: trailerFields)
        return writer.out
    }
}

extension BinaryHTTPResponse {
    public func encoded() throws(BinaryHTTPError) -> [UInt8] {
        var writer = BinaryHTTPWriter()
        try writer.varint(1)
        for informational in informationalResponses {
            try writer.status(informational.status, allowed: 100...199)
            try writer.fieldSection(informational.headerFields)
        }
        try writer.status(status, allowed: 200...599)
        try writer.finalParts(headerFields: headerFields, content: content, trailerFields: trailerFields)
        return writer.out
    }
}

struct BinaryHTTPWriter {
    var out: [UInt8] = []

    mutating func varint(_ value: UInt64) throws(BinaryHTTPError) {
        do {
            try QUICVarint.append(value, to: &out)
        } catch {
            throw .lengthNotEncodable(error.value)
        }
    }

    mutating func lengthPrefixed(_ bytes: [UInt8]) throws(BinaryHTTPError) {
        try varint(UInt64(bytes.count))
        out += bytes
    }

    mutating func status(_ status: Int, allowed: ClosedRange<Int>) throws(BinaryHTTPError) {
        guard allowed.contains(status) else {
            throw .invalidStatus(UInt64(clamping: status), expected: allowed, offset: nil)
        }
        try varint(UInt64(status))
    }

    mutating func fieldSection(
        _ fields: [HTTPField], _ section: FieldValidator.Section = .header
    ) throws(BinaryHTTPError) {
        var validator = FieldValidator(section)
        var body = BinaryHTTPWriter()
        for field in fields {
            let name = Array(field.name.lowercased().utf8)
            let value = Array(field.value.utf8)
            _ = try validator.field(name: name, value: value, offset: nil)
            try body.lengthPrefixed(name)
            try body.lengthPrefixed(value)
        }
        try lengthPrefixed(body.out)
    }

    mutating func finalParts(
        headerFields: [HTTPField], content: [UInt8], trailerFields: [HTTPField]
    ) throws(BinaryHTTPError) {
        guard !(headerFields.isEmpty && content.isEmpty && trailerFields.isEmpty) else { return }
        try fieldSection(headerFields)
        guard !(content.isEmpty && trailerFields.isEmpty) else { return }
        try lengthPrefixed(content)
        guard !trailerFields.isEmpty else { return }
        try fieldSection(trailerFields, .trailer)
    }
}
