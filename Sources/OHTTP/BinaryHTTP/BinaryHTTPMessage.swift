/// One field line. Names are lowercase on the wire (RFC 9292 applies HTTP/2's field rules);
/// the encoder lowercases them, the decoder rejects uppercase.
///
/// Values are kept as `String` and the decoder rejects values that are not UTF-8: HTTP allows
/// obsolete Latin-1 text in values, but nothing this gateway talks to sends it.
public struct HTTPField: Hashable, Sendable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// A Binary HTTP request (RFC 9292, `message/bhttp`). The control data replaces HTTP/2's
/// `:method`, `:scheme`, `:authority` and `:path`; an absent authority is the empty string.
public struct BinaryHTTPRequest: Hashable, Sendable {
    public var method: String
    public var scheme: String
    public var authority: String
    public var path: String
    public var headerFields: [HTTPField]
    public var content: [UInt8]
    public var trailerFields: [HTTPField]

    public init(
        method: String, scheme: String = "https", authority: String = "", path: String,
        headerFields: [HTTPField] = [], content: [UInt8] = [], trailerFields: [HTTPField] = []
    ) {
        self.method = method
        self.scheme = scheme
        self.authority = authority
        self.path = path
        self.headerFields = headerFields
        self.content = content
        self.trailerFields = trailerFields
    }
}

/// A Binary HTTP response. Interim (1xx) responses precede the final one on the wire and are
/// kept, in order, in `informationalResponses`; consumers that only care about the outcome can
/// ignore them, as HTTP clients ignore 1xx.
public struct BinaryHTTPResponse: Hashable, Sendable {
    public struct Informational: Hashable, Sendable {
        public var status: Int
        public var headerFields: [HTTPField]

        public init(status: Int, headerFields: [HTTPField] = []) {
            self.status = status
            self.headerFields = headerFields
        }
    }

    public var informationalResponses: [Informational]
    public var status: Int
    public var headerFields: [HTTPField]
    public var content: [UInt8]
    public var trailerFields: [HTTPField]

    public init(
        status: Int, headerFields: [HTTPField] = [], content: [UInt8] = [], trailerFields: [HTTPField] = [],
        informationalResponses: [Informational] = []
    ) {
        self.informationalResponses = informationalResponses
        self.status = status
        self.headerFields = headerFields
        self.content = content
        self.trailerFields = trailerFields
    }
}
