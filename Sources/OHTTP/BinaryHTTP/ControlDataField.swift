/// Request control data (RFC 9292 §3.4), in wire order. The method is a token; scheme,
/// authority and path are visible ASCII and may be empty (CONNECT has no scheme or path, and
/// the authority may be absent).
enum ControlDataField: String, CaseIterable {
    case method, scheme, authority, path

    func isValid(_ bytes: [UInt8]) -> Bool {
        self == .method
            ? !bytes.isEmpty && bytes.allSatisfy(FieldValidator.isTokenByte)
            : bytes.allSatisfy { (0x21...0x7E).contains($0) }
    }

    /// RFC 9113 §8.1.1: a request whose content-length disagrees with its content is malformed.
    static func checkContentLength(_ fields: [HTTPField], contentCount: Int) throws(BinaryHTTPError) {
        for field in fields where field.name == "content-length" && field.value != String(contentCount) {
            throw .contentLengthMismatch(declared: field.value, actual: contentCount)
        }
    }
}
