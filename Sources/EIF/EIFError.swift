/// Why an EIF (or a ramdisk tree) was refused. Every case names what was wrong and where, so
/// someone holding a corrupted or hand-edited image can tell which part to look at.
public enum EIFError: Error, Equatable, CustomStringConvertible {
    case truncatedHeader(fileSize: Int)
    case badMagic([UInt8])
    case unsupportedVersion(UInt16)
    case badSectionCount(UInt16)
    case sectionOutOfBounds(index: Int, offset: UInt64, size: UInt64, fileSize: Int)
    case sectionNotContiguous(index: Int, offset: UInt64, expected: UInt64)
    case unknownSectionType(index: Int, type: UInt16)
    case sectionSizeMismatch(index: Int, table: UInt64, sectionHeader: UInt64)
    case trailingBytes(count: Int)
    case crcMismatch(stored: UInt32, computed: UInt32)
    case badLayout(String)
    case tooManySections(Int)
    case badSignature(String)
    case badCertificate(String)
    case badKey(String)
    case badRamdiskTree(path: String, reason: String)

    public var description: String {
        switch self {
        case .truncatedHeader(let size):
            "not an EIF: \(size) bytes, shorter than the 548-byte EIF header"
        case .badMagic(let bytes):
            "not an EIF: magic is \(bytes.map { String($0, radix: 16) }) instead of \".eif\""
        case .unsupportedVersion(let version):
            "EIF version \(version) is not supported (2 to 4 carry the CRC this tool checks)"
        case .badSectionCount(let count):
            "EIF header claims \(count) sections; an EIF has 1 to 32"
        case .sectionOutOfBounds(let index, let offset, let size, let fileSize):
            "section \(index) (offset \(offset), size \(size)) extends past the end of the \(fileSize)-byte file: truncated, or the section table lies"
        case .sectionNotContiguous(let index, let offset, let expected):
            "section \(index) starts at offset \(offset), expected \(expected) right after the previous section"
        case .unknownSectionType(let index, let type):
            "section \(index) has unknown type \(type)"
        case .sectionSizeMismatch(let index, let table, let sectionHeader):
            "section \(index): the header table says \(table) bytes, the section's own header says \(sectionHeader)"
        case .trailingBytes(let count):
            "\(count) bytes after the last section the header lists: the section count lies or data was appended"
        case .crcMismatch(let stored, let computed):
            "CRC32 mismatch: header stores \(hex32(stored)), contents give \(hex32(computed)); the file is corrupted"
        case .badLayout(let reason): "EIF layout: \(reason)"
        case .tooManySections(let count): "\(count) sections do not fit an EIF header (at most 32)"
        case .badSignature(let reason): "EIF signature section: \(reason)"
        case .badCertificate(let reason): "signing certificate: \(reason)"
        case .badKey(let reason): "signing key: \(reason)"
        case .badRamdiskTree(let path, let reason): "ramdisk tree: \(path): \(reason)"
        }
    }
}

private func hex32(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}
