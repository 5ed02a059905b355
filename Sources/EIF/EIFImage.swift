/// The Nitro Enclave Image Format, as aws-nitro-enclaves-image-format writes and reads it:
/// a 548-byte big-endian header (magic `.eif`, version, flags, default memory and CPUs, section
/// count, 32 section offsets, 32 section sizes, CRC32), then each section behind a 12-byte header
/// (type, flags, size). nitro-cli lays sections out back to back in the order kernel, cmdline,
/// metadata, ramdisks (bootstrap first), signature, and the CRC covers every byte of the file
/// except the CRC field itself.
///
/// Hand-written (no Swift package reads EIFs) so that `gatewayctl measure` can recompute PCRs
/// without AWS tools, and so the same code both writes our images and checks other people's.

/// Section kinds, numbered as in the upstream `EifSectionType` enum (0 is "invalid").
public enum EIFSectionType: UInt16, Sendable, CustomStringConvertible {
    case kernel = 1
    case cmdline = 2
    case ramdisk = 3
    case signature = 4
    case metadata = 5

    public var description: String {
        switch self {
        case .kernel: "kernel"
        case .cmdline: "cmdline"
        case .ramdisk: "ramdisk"
        case .signature: "signature"
        case .metadata: "metadata"
        }
    }
}

public struct EIFSection: Sendable, Equatable {
    public static let headerSize = 12
    public var type: EIFSectionType
    public var flags: UInt16
    public var data: [UInt8]

    public init(_ type: EIFSectionType, flags: UInt16 = 0, data: [UInt8]) {
        self.type = type
        self.flags = flags
        self.data = data
    }

    func encodedHeader() -> [UInt8] {
        var out: [UInt8] = []
        out.appendBigEndian(type.rawValue)
        out.appendBigEndian(flags)
        out.appendBigEndian(UInt64(data.count))
        return out
    }
}

/// The fixed EIF header. Field names follow upstream's `EifHeader`.
public struct EIFHeader: Sendable, Equatable {
    public static let size = 548
    public static let magic: [UInt8] = Array(".eif".utf8)
    public static let currentVersion: UInt16 = 4
    public static let maxSections = 32
    /// Flag bit upstream sets for aarch64 images; cleared means x86_64.
    public static let arm64Flag: UInt16 = 0x1
    /// Byte offset of the CRC field, the header's last four bytes.
    static let crcOffset = size - 4

    public var version: UInt16 = currentVersion
    public var flags: UInt16 = 0
    /// Bytes of memory nitro-cli uses when `run-enclave` is not told (upstream default 1 GiB).
    public var defaultMemory: UInt64 = 1024 * 1024 * 1024
    public var defaultCPUs: UInt64 = 2
    public var reserved: UInt16 = 0
    public var sectionCount: UInt16 = 0
    public var sectionOffsets = [UInt64](repeating: 0, count: maxSections)
    public var sectionSizes = [UInt64](repeating: 0, count: maxSections)
    public var unused: UInt32 = 0
    public var crc32: UInt32 = 0

    public init() {}

    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Self.size)
        out.append(contentsOf: Self.magic)
        out.appendBigEndian(version)
        out.appendBigEndian(flags)
        out.appendBigEndian(defaultMemory)
        out.appendBigEndian(defaultCPUs)
        out.appendBigEndian(reserved)
        out.appendBigEndian(sectionCount)
        for offset in sectionOffsets { out.appendBigEndian(offset) }
        for size in sectionSizes { out.appendBigEndian(size) }
        out.appendBigEndian(unused)
        out.appendBigEndian(crc32)
        return out
    }

    /// Decodes the fields without judging them; ``EIFImage/init(parsing:)`` does the checks.
    public init(decoding bytes: ArraySlice<UInt8>) throws(EIFError) {
        guard bytes.count >= Self.size else { throw .truncatedHeader(fileSize: bytes.count) }
        var reader = BigEndianReader(bytes.prefix(Self.size))
        let magic = reader.take(4)
        guard magic == Self.magic else { throw .badMagic(magic) }
        version = reader.u16()
        flags = reader.u16()
        defaultMemory = reader.u64()
        defaultCPUs = reader.u64()
        reserved = reader.u16()
        sectionCount = reader.u16()
        sectionOffsets = (0..<Self.maxSections).map { _ in reader.u64() }
        sectionSizes = (0..<Self.maxSections).map { _ in reader.u64() }
        unused = reader.u32()
        crc32 = reader.u32()
    }
}

/// A whole EIF: its header and its sections in file order.
public struct EIFImage: Sendable {
    public var header: EIFHeader
    public var sections: [EIFSection]

    /// Lays `sections` out exactly as nitro-cli does (back to back after the header) and fills
    /// the section table, count and CRC. The caller supplies sections in nitro-cli's order; see
    /// ``EIFImage/nitroCLIOrder(kernel:cmdline:metadata:ramdisks:signature:)``.
    public init(sections: [EIFSection], flags: UInt16 = 0, defaultMemoryMiB: UInt64 = 1024, defaultCPUs: UInt64 = 2) throws(EIFError) {
        guard sections.count <= EIFHeader.maxSections else { throw .tooManySections(sections.count) }
        var header = EIFHeader()
        header.flags = flags
        header.defaultMemory = defaultMemoryMiB * 1024 * 1024
        header.defaultCPUs = defaultCPUs
        header.sectionCount = UInt16(sections.count)
        var offset = UInt64(EIFHeader.size)
        for (index, section) in sections.enumerated() {
            header.sectionOffsets[index] = offset
            header.sectionSizes[index] = UInt64(section.data.count)
            offset += UInt64(EIFSection.headerSize + section.data.count)
        }
        var crc = CRC32()
        crc.update(header.encoded().prefix(EIFHeader.crcOffset))
        for section in sections {
            crc.update(section.encodedHeader())
            crc.update(section.data)
        }
        header.crc32 = crc.value
        self.header = header
        self.sections = sections
    }

    /// nitro-cli's section order: kernel, cmdline, metadata, ramdisks (bootstrap first), then
    /// the signature when the image is signed.
    public static func nitroCLIOrder(
        kernel: [UInt8], cmdline: [UInt8], metadata: [UInt8], ramdisks: [[UInt8]], signature: [UInt8]?
    ) -> [EIFSection] {
        var sections = [EIFSection(.kernel, data: kernel), EIFSection(.cmdline, data: cmdline), EIFSection(.metadata, data: metadata)]
        sections += ramdisks.map { EIFSection(.ramdisk, data: $0) }
        if let signature { sections.append(EIFSection(.signature, data: signature)) }
        return sections
    }

    /// The file's bytes.
    public func encoded() -> [UInt8] {
        var out = header.encoded()
        for section in sections {
            out.append(contentsOf: section.encodedHeader())
            out.append(contentsOf: section.data)
        }
        return out
    }

    /// Parses and checks a whole file: magic, version, section count, that every section lies
    /// inside the file right after the previous one with the size the table claims, that nothing
    /// follows the last section, the CRC, and the section order nitro-cli produces.
    public init(parsing bytes: [UInt8]) throws(EIFError) {
        let header = try EIFHeader(decoding: bytes[...])
        guard (2...EIFHeader.currentVersion).contains(header.version) else { throw .unsupportedVersion(header.version) }
        guard (1...UInt16(EIFHeader.maxSections)).contains(header.sectionCount) else {
            throw .badSectionCount(header.sectionCount)
        }
        var crc = CRC32()
        crc.update(bytes[0..<EIFHeader.crcOffset])
        var sections: [EIFSection] = []
        var expectedOffset = UInt64(EIFHeader.size)
        for index in 0..<Int(header.sectionCount) {
            let offset = header.sectionOffsets[index]
            let size = header.sectionSizes[index]
            guard offset == expectedOffset else {
                throw .sectionNotContiguous(index: index, offset: offset, expected: expectedOffset)
            }
            let (withHeader, overflow1) = offset.addingReportingOverflow(UInt64(EIFSection.headerSize))
            let (end, overflow2) = withHeader.addingReportingOverflow(size)
            guard !overflow1, !overflow2, end <= UInt64(bytes.count) else {
                throw .sectionOutOfBounds(index: index, offset: offset, size: size, fileSize: bytes.count)
            }
            var reader = BigEndianReader(bytes[Int(offset)..<Int(withHeader)])
            let rawType = reader.u16()
            let flags = reader.u16()
            let ownSize = reader.u64()
            guard let type = EIFSectionType(rawValue: rawType) else { throw .unknownSectionType(index: index, type: rawType) }
            guard ownSize == size else { throw .sectionSizeMismatch(index: index, table: size, sectionHeader: ownSize) }
            crc.update(bytes[Int(offset)..<Int(end)])
            sections.append(EIFSection(type, flags: flags, data: Array(bytes[Int(withHeader)..<Int(end)])))
            expectedOffset = end
        }
        guard expectedOffset == UInt64(bytes.count) else { throw .trailingBytes(count: bytes.count - Int(expectedOffset)) }
        guard crc.value == header.crc32 else { throw .crcMismatch(stored: header.crc32, computed: crc.value) }
        try Self.checkOrder(sections.map(\.type))
        self.header = header
        self.sections = sections
    }

    /// kernel, cmdline, optional metadata, at least one ramdisk, optional signature last.
    static func checkOrder(_ types: [EIFSectionType]) throws(EIFError) {
        var rest = types[...]
        guard rest.popFirst() == .kernel else { throw .badLayout("the first section must be the kernel") }
        guard rest.popFirst() == .cmdline else { throw .badLayout("the second section must be the cmdline") }
        if rest.first == .metadata { rest = rest.dropFirst() }
        let ramdisks = rest.prefix { $0 == .ramdisk }.count
        guard ramdisks >= 1 else { throw .badLayout("no ramdisk section after kernel, cmdline and metadata") }
        rest = rest.dropFirst(ramdisks)
        if rest.first == .signature { rest = rest.dropFirst() }
        if let extra = rest.first { throw .badLayout("unexpected \(extra) section after the ramdisks and signature") }
    }

    public var kernel: [UInt8] { sections.first { $0.type == .kernel }?.data ?? [] }
    public var cmdline: [UInt8] { sections.first { $0.type == .cmdline }?.data ?? [] }
    public var metadata: [UInt8]? { sections.first { $0.type == .metadata }?.data }
    /// All ramdisks in order; the first is AWS's bootstrap ramdisk (init + nsm.ko).
    public var ramdisks: [[UInt8]] { sections.filter { $0.type == .ramdisk }.map(\.data) }
    public var signature: [UInt8]? { sections.first { $0.type == .signature }?.data }
}

extension [UInt8] {
    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }
}

/// Reads big-endian integers from a slice whose length the caller has already checked.
struct BigEndianReader {
    private var bytes: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    mutating func take(_ count: Int) -> [UInt8] {
        defer { bytes = bytes.dropFirst(count) }
        return Array(bytes.prefix(count))
    }

    mutating func u16() -> UInt16 { UInt16(integer(width: 2)) }
    mutating func u32() -> UInt32 { UInt32(integer(width: 4)) }
    mutating func u64() -> UInt64 { integer(width: 8) }

    private mutating func integer(width: Int) -> UInt64 {
        var value: UInt64 = 0
        for byte in bytes.prefix(width) { value = value << 8 | UInt64(byte) }
        bytes = bytes.dropFirst(width)
        return value
    }
}
