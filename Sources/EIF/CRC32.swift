/// CRC-32/ISO-HDLC (the "IEEE" CRC of zlib, PNG and Ethernet), which the EIF header uses to
/// detect a corrupted image. Hand-written because it is twenty lines and no package we already
/// depend on exposes it; vectors in `CRC32Tests`.
public struct CRC32: Sendable {
    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? (value >> 1) ^ 0xEDB8_8320 : value >> 1 }
        return value
    }

    private var state: UInt32 = 0xFFFF_FFFF

    public init() {}

    /// Feeds more bytes; the checksum of the concatenation does not depend on how it is split.
    public mutating func update(_ bytes: some Sequence<UInt8>) {
        var crc = state
        for byte in bytes { crc = Self.table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        state = crc
    }

    public var value: UInt32 { state ^ 0xFFFF_FFFF }

    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var crc = CRC32()
        crc.update(bytes)
        return crc.value
    }
}
