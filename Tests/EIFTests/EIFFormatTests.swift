import EIF
import Crypto
import Foundation
import GatewayCore
import Testing

@Suite struct CRC32Tests {
    @Test func standardCheckValues() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
        #expect(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
    }

    @Test func splittingTheInputDoesNotChangeTheChecksum() {
        var crc = CRC32()
        crc.update(Array("12345".utf8))
        crc.update(Array("6789".utf8))
        #expect(crc.value == 0xCBF4_3926)
    }
}

@Suite struct EIFFormatTests {
    static func metadata() -> EIFMetadata {
        EIFMetadata(imageName: "synthetic", imageVersion: "1.0", buildTime: "2026-01-01T00:00:00+00:00")
    }

    static func unsigned(ramdisks: [[UInt8]] = [Synthetic.bootstrap, Synthetic.customer]) throws -> (image: EIFImage, measurements: EIFMeasurements) {
        try EIFBuilder(kernel: Synthetic.kernel, cmdline: Synthetic.cmdline, ramdisks: ramdisks, metadata: metadata()).build()
    }

    @Test func headerIs548BytesAndSectionsFollowInNitroCLIOrder() throws {
        let (image, _) = try Self.unsigned()
        let bytes = image.encoded()
        #expect(image.header.encoded().count == 548)
        #expect(Array(bytes.prefix(4)) == Array(".eif".utf8))
        #expect(image.sections.map(\.type) == [.kernel, .cmdline, .metadata, .ramdisk, .ramdisk])
        #expect(image.header.sectionOffsets[0] == 548)
        #expect(image.header.sectionOffsets[1] == 548 + 12 + UInt64(Synthetic.kernel.count))
        #expect(image.header.defaultMemory == 1024 * 1024 * 1024 && image.header.defaultCPUs == 2)
        #expect(bytes.count == 548 + image.sections.reduce(0) { $0 + 12 + $1.data.count })
    }

    @Test func pcrsMatchThePythonOracle() throws {
        let directory = try Tools.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for ramdisks in [[Synthetic.bootstrap, Synthetic.customer], [Synthetic.bootstrap], [Synthetic.bootstrap, Synthetic.customer, Synthetic.secondCustomer]] {
            let (image, measurements) = try Self.unsigned(ramdisks: ramdisks)
            let file = directory.appendingPathComponent("image.eif")
            try Data(image.encoded()).write(to: file)
            let oracle = try Tools.oracle(["read", file.path])
            #expect(oracle["crc_ok"] as? Bool == true)
            #expect(oracle["PCR0"] as? String == Hex.encode(measurements.pcr0))
            #expect(oracle["PCR1"] as? String == Hex.encode(measurements.pcr1))
            #expect(oracle["PCR2"] as? String == Hex.encode(measurements.pcr2))
            #expect(oracle["PCR8"] == nil && measurements.pcr8 == nil)
            let metadata = try #require(oracle["metadata"] as? [String: Any])
            #expect(metadata["ImageName"] as? String == "synthetic")
            #expect((metadata["BuildMetadata"] as? [String: Any])?["BuildTime"] as? String == "2026-01-01T00:00:00+00:00")
            #expect(try EIFImage(parsing: image.encoded()).measure() == measurements)
        }
    }

    /// The oracle lays the same sections out on its own; the files must be identical, byte for byte.
    @Test func layoutIsByteIdenticalToTheOraclesWriter() throws {
        let directory = try Tools.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let inputs = ["kernel": Synthetic.kernel, "metadata": Self.metadata().encoded(), "r0": Synthetic.bootstrap, "r1": Synthetic.customer]
        for (name, bytes) in inputs { try Data(bytes).write(to: directory.appendingPathComponent(name)) }
        let out = directory.appendingPathComponent("oracle.eif")
        let path = { (name: String) in directory.appendingPathComponent(name).path }
        let run = try Tools.run("python3", [
            Tools.oracle, "write", out.path, "--kernel", path("kernel"), "--cmdline", Synthetic.cmdline,
            "--metadata", path("metadata"), "--ramdisk", path("r0"), "--ramdisk", path("r1"),
        ])
        try #require(run.status == 0, "\(run.stderr)")
        let theirs = [UInt8](try Data(contentsOf: out))
        let ours = try Self.unsigned().image.encoded()
        #expect(theirs.count == ours.count)
        #expect(theirs == ours)
        #expect(try EIFImage(parsing: theirs).sections.count == 5)
    }

    @Test func pcr2AloneMatchesThePCR2OfTheImage() throws {
        let (_, measurements) = try Self.unsigned()
        #expect(EIFMeasurements.pcr2(customerRamdisks: [Synthetic.customer]) == measurements.pcr2)
        // An extend is SHA384(0^48 ‖ SHA384(data)), never the plain hash.
        #expect(measurements.pcr2 != Array(Crypto.SHA384.hash(data: Synthetic.customer)))
    }

    @Test func metadataIsCompactJSONInUpstreamFieldOrder() {
        let text = String(decoding: Self.metadata().encoded(), as: UTF8.self)
        #expect(text == #"{"ImageName":"synthetic","ImageVersion":"1.0","BuildMetadata":{"BuildTime":"2026-01-01T00:00:00+00:00","BuildTool":"gatewayctl","BuildToolVersion":"1","OperatingSystem":"Unknown","KernelVersion":"Unknown"},"DockerInfo":null,"CustomMetadata":null}"#)
    }
}
