/// The `application/ohttp-keys` encoding (RFC 9458 §3.2): each configuration prefixed by its
/// u16 length, concatenated. This is also what the attestation `user_data` hashes (§7).
extension KeyConfig {
    public static func encodeList(_ configs: [KeyConfig]) -> [UInt8] {
        var out: [UInt8] = []
        for config in configs {
            let encoded = config.encoded
            out.appendUInt16(UInt16(encoded.count))  // KeyConfig.init keeps every encoding within u16
            out += encoded
        }
        return out
    }

    /// Parses a list, skipping configurations whose KEM this module does not implement: the
    /// length prefix makes skipping safe, and a gateway may offer suites a client cannot use.
    /// Any other defect fails the whole list, as does a list with nothing usable in it.
    public static func decodeList(_ bytes: [UInt8]) throws(KeyConfigError) -> [KeyConfig] {
        var reader = ByteReader<KeyConfigError>(bytes)
        var configs: [KeyConfig] = []
        while !reader.isAtEnd {
            let length = try reader.uint16("key configuration length")
            var inner = try reader.subreader(UInt64(length), "key configuration")
            do {
                configs.append(try read(from: &inner))
            } catch .unsupportedKEM {
                continue
            }
            guard inner.isAtEnd else { throw .trailingBytes(offset: inner.offset, count: inner.remaining) }
        }
        guard !configs.isEmpty else { throw .emptyList }
        return configs
    }
}
