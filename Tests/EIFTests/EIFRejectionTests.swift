import EIF
import Foundation
import Testing

/// Damaged and lying files are refused with the reason, never crash and never get measured.
@Suite struct EIFRejectionTests {
    static func good() throws -> [UInt8] { try EIFFormatTests.unsigned().image.encoded() }

    static func setUInt(_ value: UInt64, width: Int, at offset: Int, in bytes: inout [UInt8]) {
        for index in 0..<width { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> UInt64(8 * (width - 1 - index))) }
    }

    static let countOffset = 4 + 2 + 2 + 8 + 8 + 2
    static func sizeOffset(_ index: Int) -> Int { countOffset + 2 + 32 * 8 + index * 8 }

    @Test func aFlippedByteFailsTheCRC() throws {
        var bytes = try Self.good()
        bytes[1000] ^= 0x01
        let error = try #require(refusal { try EIFImage(parsing: bytes) })
        guard case .crcMismatch = error else { Issue.record("\(error)"); return }
        #expect(error.description.hasPrefix("CRC32 mismatch: header stores 0x"))
    }

    @Test func truncatedFilesAreRefused() throws {
        let bytes = try Self.good()
        let error = try #require(refusal { try EIFImage(parsing: Array(bytes.dropLast(1))) })
        guard case .sectionOutOfBounds(index: 4, _, _, _) = error else { Issue.record("\(error)"); return }
        #expect(error.description.contains("extends past the end of the \(bytes.count - 1)-byte file"))
        #expect(refusal { try EIFImage(parsing: Array(bytes.prefix(100))) } == .truncatedHeader(fileSize: 100))
        #expect(refusal { try EIFImage(parsing: []) } == .truncatedHeader(fileSize: 0))
    }

    @Test func aSectionCountThatLiesIsRefused() throws {
        var fewer = try Self.good()
        Self.setUInt(4, width: 2, at: Self.countOffset, in: &fewer)
        #expect(refusal { try EIFImage(parsing: fewer) } == .trailingBytes(count: 12 + Synthetic.customer.count))
        var more = try Self.good()
        Self.setUInt(6, width: 2, at: Self.countOffset, in: &more)
        #expect(refusal { try EIFImage(parsing: more) } == .sectionNotContiguous(index: 5, offset: 0, expected: UInt64(more.count)))
        var absurd = try Self.good()
        Self.setUInt(40, width: 2, at: Self.countOffset, in: &absurd)
        #expect(refusal { try EIFImage(parsing: absurd) } == .badSectionCount(40))
    }

    @Test func oversizedSizesAreRefusedWithoutOverflow() throws {
        for size in [UInt64.max, UInt64.max - 11, 1 << 40] {
            var bytes = try Self.good()
            Self.setUInt(size, width: 8, at: Self.sizeOffset(0), in: &bytes)
            #expect(refusal { try EIFImage(parsing: bytes) } == .sectionOutOfBounds(index: 0, offset: 548, size: size, fileSize: bytes.count))
        }
        // The table and the section's own header disagree.
        var mismatch = try Self.good()
        Self.setUInt(552, width: 8, at: 548 + 4, in: &mismatch)
        #expect(refusal { try EIFImage(parsing: mismatch) } == .sectionSizeMismatch(index: 0, table: UInt64(Synthetic.kernel.count), sectionHeader: 552))
    }

    @Test func wrongMagicVersionAndSectionTypeAreRefused() throws {
        var magic = try Self.good()
        magic[0] = 0x7f
        #expect(refusal { try EIFImage(parsing: magic) }?.description.hasPrefix("not an EIF: magic") == true)
        var version = try Self.good()
        Self.setUInt(9, width: 2, at: 4, in: &version)
        #expect(refusal { try EIFImage(parsing: version) } == .unsupportedVersion(9))
        var type = try Self.good()
        Self.setUInt(7, width: 2, at: 548, in: &type)
        #expect(refusal { try EIFImage(parsing: type) } == .unknownSectionType(index: 0, type: 7))
    }

    @Test func sectionsOutOfNitroCLIOrderAreRefused() throws {
        let image = try EIFFormatTests.unsigned().image
        var sections = image.sections
        sections.swapAt(0, 1)
        let bytes = try EIFImage(sections: sections).encoded()
        #expect(refusal { try EIFImage(parsing: bytes) } == .badLayout("the first section must be the kernel"))
        let noRamdisk = try EIFImage(sections: Array(image.sections.prefix(3))).encoded()
        #expect(refusal { try EIFImage(parsing: noRamdisk) } == .badLayout("no ramdisk section after kernel, cmdline and metadata"))
    }
}
