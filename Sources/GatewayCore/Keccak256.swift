/// Ethereum's Keccak-256: the original Keccak submission with padding byte 0x01.
///
/// This is deliberately *not* SHA3-256 (which pads with 0x06 and gives different digests). Every
/// hash in the signing contract (`tee_request_hash`, `tee_output_hash`, the signed message, `tee_id`,
/// the OHTTP config hash) is Keccak-256 so that on-chain verifiers can recompute it with the EVM's
/// `keccak256` opcode. No package on this platform exposes it, so it lives here, in one file.
public struct Keccak256: Sendable {
    /// Bytes absorbed per permutation: (1600 - 2 * 256) / 8.
    public static let rate = 136
    public static let byteCount = 32

    private var state = [UInt64](repeating: 0, count: 25)
    private var buffer = [UInt8](repeating: 0, count: Keccak256.rate)
    private var buffered = 0

    public init() {}

    /// One-shot digest of `bytes`.
    public static func hash<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> Keccak256Digest {
        var hasher = Keccak256()
        hasher.update(bytes)
        return hasher.finalize()
    }

    public mutating func update<Bytes: Sequence<UInt8>>(_ bytes: Bytes) {
        let handled: Void? = bytes.withContiguousStorageIfAvailable { update(UnsafeRawBufferPointer($0)) }
        if handled == nil {
            let copy = Array(bytes)
            copy.withUnsafeBytes { update($0) }
        }
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        let count = bytes.count
        if buffered > 0 {
            let take = min(Self.rate - buffered, count)
            for i in 0..<take { buffer[buffered + i] = bytes[i] }
            buffered += take
            offset = take
            guard buffered == Self.rate else { return }
            buffer.withUnsafeBytes { absorb(block: $0.baseAddress!) }
            buffered = 0
        }
        while count - offset >= Self.rate {
            absorb(block: bytes.baseAddress! + offset)
            offset += Self.rate
        }
        for i in offset..<count { buffer[buffered] = bytes[i]; buffered += 1 }
    }

    public consuming func finalize() -> Keccak256Digest {
        for i in buffered..<Self.rate { buffer[i] = 0 }
        buffer[buffered] ^= 0x01
        buffer[Self.rate - 1] ^= 0x80
        buffer.withUnsafeBytes { absorb(block: $0.baseAddress!) }
        var out = [UInt8]()
        out.reserveCapacity(Self.byteCount)
        for lane in state.prefix(4) {
            for shift in stride(from: 0, to: 64, by: 8) { out.append(UInt8(truncatingIfNeeded: lane >> UInt64(shift))) }
        }
        return Keccak256Digest(unchecked: out)
    }

    private mutating func absorb(block: UnsafeRawPointer) {
        state.withUnsafeMutableBufferPointer { lanes in
            for i in 0..<(Self.rate / 8) {
                lanes[i] ^= UInt64(littleEndian: block.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
            }
            Self.permute(lanes.baseAddress!)
        }
    }

    private static let roundConstants: [UInt64] = [
        0x0000_0000_0000_0001, 0x0000_0000_0000_8082, 0x8000_0000_0000_808A, 0x8000_0000_8000_8000,
        0x0000_0000_0000_808B, 0x0000_0000_8000_0001, 0x8000_0000_8000_8081, 0x8000_0000_0000_8009,
        0x0000_0000_0000_008A, 0x0000_0000_0000_0088, 0x0000_0000_8000_8009, 0x0000_0000_8000_000A,
        0x0000_0000_8000_808B, 0x8000_0000_0000_008B, 0x8000_0000_0000_8089, 0x8000_0000_0000_8003,
        0x8000_0000_0000_8002, 0x8000_0000_0000_0080, 0x0000_0000_0000_800A, 0x8000_0000_8000_000A,
        0x8000_0000_8000_8081, 0x8000_0000_0000_8080, 0x0000_0000_8000_0001, 0x8000_0000_8000_8008,
    ]
    private static let rotations: [UInt64] = [1, 3, 6, 10, 15, 21, 28, 36, 45, 55, 2, 14, 27, 41, 56, 8, 25, 43, 62, 18, 39, 61, 20, 44]
    private static let piLanes: [Int] = [10, 7, 11, 17, 18, 3, 5, 16, 8, 21, 24, 4, 15, 23, 19, 13, 12, 2, 20, 14, 22, 9, 6, 1]

    /// Keccak-f[1600]: 24 rounds of theta, rho+pi, chi, iota over 25 little-endian lanes.
    private static func permute(_ a: UnsafeMutablePointer<UInt64>) {
        @inline(__always) func rotl(_ x: UInt64, _ n: UInt64) -> UInt64 { (x << n) | (x >> (64 - n)) }
        roundConstants.withUnsafeBufferPointer { rc in
            rotations.withUnsafeBufferPointer { rot in
                piLanes.withUnsafeBufferPointer { pi in
                    for round in 0..<24 {
                        let c0 = a[0] ^ a[5] ^ a[10] ^ a[15] ^ a[20]
                        let c1 = a[1] ^ a[6] ^ a[11] ^ a[16] ^ a[21]
                        let c2 = a[2] ^ a[7] ^ a[12] ^ a[17] ^ a[22]
                        let c3 = a[3] ^ a[8] ^ a[13] ^ a[18] ^ a[23]
                        let c4 = a[4] ^ a[9] ^ a[14] ^ a[19] ^ a[24]
                        let d0 = c4 ^ rotl(c1, 1), d1 = c0 ^ rotl(c2, 1), d2 = c1 ^ rotl(c3, 1)
                        let d3 = c2 ^ rotl(c4, 1), d4 = c3 ^ rotl(c0, 1)
                        for j in stride(from: 0, to: 25, by: 5) {
                            a[j] ^= d0; a[j + 1] ^= d1; a[j + 2] ^= d2; a[j + 3] ^= d3; a[j + 4] ^= d4
                        }
                        var carry = a[1]
                        for i in 0..<24 {
                            let j = pi[i]
                            let next = a[j]
                            a[j] = rotl(carry, rot[i])
                            carry = next
                        }
                        for j in stride(from: 0, to: 25, by: 5) {
                            let b0 = a[j], b1 = a[j + 1], b2 = a[j + 2], b3 = a[j + 3], b4 = a[j + 4]
                            a[j] = b0 ^ (~b1 & b2)
                            a[j + 1] = b1 ^ (~b2 & b3)
                            a[j + 2] = b2 ^ (~b3 & b4)
                            a[j + 3] = b3 ^ (~b4 & b0)
                            a[j + 4] = b4 ^ (~b0 & b1)
                        }
                        a[0] ^= rc[round]
                    }
                }
            }
        }
    }
}

/// A 32-byte Keccak-256 digest. Rendered as bare lowercase hex (`tee_request_hash`,
/// `tee_output_hash`); `tee_id` adds a `0x` prefix — see ``TEEID``.
public struct Keccak256Digest: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    init(unchecked bytes: [UInt8]) { self.bytes = bytes }

    /// Accepts exactly 32 bytes; anything else is a caller error worth reporting, not truncating.
    public init?(bytes: [UInt8]) {
        guard bytes.count == Keccak256.byteCount else { return nil }
        self.bytes = bytes
    }

    /// Parses 64 hex digits, with or without a `0x` prefix.
    public init?(hex: String) {
        guard let bytes = try? Hex.decode(hex), bytes.count == Keccak256.byteCount else { return nil }
        self.bytes = bytes
    }

    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }
}
