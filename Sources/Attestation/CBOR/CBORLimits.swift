/// Bounds applied while decoding untrusted CBOR, so hostile input costs bounded memory and time.
///
/// The defaults fit every NSM message with a wide margin: a real attestation document is about
/// 5 KB with ~60 data items and nesting depth 3, and the NSM response buffer is 12 KiB.
public struct CBORLimits: Sendable, Equatable {
    /// Largest input accepted at all, in bytes.
    public var maxTotalSize: Int
    /// Deepest nesting of arrays, maps and tags.
    public var maxDepth: Int
    /// Most data items in one input, counting every nested item.
    public var maxItems: Int
    /// Longest byte/text string in bytes, and most elements in one array or map.
    public var maxLength: Int

    public init(maxTotalSize: Int = 64 * 1024, maxDepth: Int = 16, maxItems: Int = 4096, maxLength: Int = 16 * 1024) {
        self.maxTotalSize = maxTotalSize
        self.maxDepth = maxDepth
        self.maxItems = maxItems
        self.maxLength = maxLength
    }
}
