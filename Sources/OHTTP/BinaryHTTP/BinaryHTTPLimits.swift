/// Bounds the decoder enforces before allocating, so a hostile length prefix costs nothing.
public struct BinaryHTTPLimits: Hashable, Sendable {
    /// Each of method, scheme, authority and path.
    public var maxControlDataLength: Int
    /// Encoded bytes of one header or trailer section.
    public var maxFieldSectionLength: Int
    /// Field lines in one section.
    public var maxFieldCount: Int
    /// Content bytes; the default matches the gateway's 32 MiB body limit (ARCHITECTURE §4).
    public var maxContentLength: Int
    public var maxInformationalResponses: Int

    public init(
        maxControlDataLength: Int = 8 * 1024, maxFieldSectionLength: Int = 64 * 1024, maxFieldCount: Int = 256,
        maxContentLength: Int = 32 * 1024 * 1024, maxInformationalResponses: Int = 8
    ) {
        self.maxControlDataLength = maxControlDataLength
        self.maxFieldSectionLength = maxFieldSectionLength
        self.maxFieldCount = maxFieldCount
        self.maxContentLength = maxContentLength
        self.maxInformationalResponses = maxInformationalResponses
    }

    public static let `default` = BinaryHTTPLimits()
}
