import Attestation
import EIF
import Foundation
import GatewayCore
import Testing

/// `gatewayctl eif build`, `eif ramdisk` and `measure` as a user runs them; their output is
/// re-read by the Python oracle.
@Suite struct GatewayCtlEIFTests {
    struct Files {
        let directory: URL
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
    }

    static func files() throws -> Files {
        let directory = try Tools.temporaryDirectory()
        for (name, bytes) in [("kernel", Synthetic.kernel), ("bootstrap.cpio", Synthetic.bootstrap), ("customer.cpio", Synthetic.customer)] {
            try Data(bytes).write(to: directory.appendingPathComponent(name))
        }
        return Files(directory: directory)
    }

    @Test func buildThenMeasureAgreesWithTheOracle() throws {
        let files = try Self.files()
        defer { try? FileManager.default.removeItem(at: files.directory) }
        let build = try Tools.gatewayctl([
            "eif", "build", "--kernel", files.path("kernel"), "--cmdline", Synthetic.cmdline,
            "--ramdisk", files.path("bootstrap.cpio"), "--ramdisk", files.path("customer.cpio"),
            "--memory", "4096", "--cpus", "4", "--output", files.path("out.eif"),
        ])
        try #require(build.status == 0, "\(build.stderr)")
        let oracle = try Tools.oracle(["read", files.path("out.eif")])
        #expect(oracle["crc_ok"] as? Bool == true)
        #expect(oracle["default_mem"] as? Int == 4096 * 1024 * 1024)
        #expect(oracle["default_cpus"] as? Int == 4)
        let expected = try ["PCR0", "PCR1", "PCR2"].map { "\($0): \(try #require(oracle[$0] as? String))\n" }.joined()
        #expect(build.text == expected)
        let measure = try Tools.gatewayctl(["measure", files.path("out.eif")])
        #expect(measure.status == 0)
        #expect(measure.text == expected)

        let json = try Tools.gatewayctl(["measure", "--json", files.path("out.eif")])
        let parsed = try Measurements(json: Data(json.stdout))
        #expect(parsed.pcrs[2].map { Hex.encode($0) } == oracle["PCR2"] as? String)

        let pcr2 = try Tools.gatewayctl(["measure", "--ramdisk", files.path("customer.cpio")])
        #expect(pcr2.text == "PCR2: \(try #require(oracle["PCR2"] as? String))\n")
        let python = try Tools.run("python3", [Tools.oracle, "pcr2", files.path("customer.cpio")])
        #expect(pcr2.text == "PCR2: \(python.text)")
    }

    @Test func signedBuildPrintsPCR8AndTheOracleVerifiesIt() throws {
        let files = try Self.files()
        defer { try? FileManager.default.removeItem(at: files.directory) }
        let identity = try Synthetic.signingIdentity()
        try identity.certificatePEM.write(toFile: files.path("cert.pem"), atomically: true, encoding: .utf8)
        try identity.keyPEM.write(toFile: files.path("key.pem"), atomically: true, encoding: .utf8)
        let build = try Tools.gatewayctl([
            "eif", "build", "--kernel", files.path("kernel"), "--cmdline", Synthetic.cmdline,
            "--ramdisk", files.path("bootstrap.cpio"), "--ramdisk", files.path("customer.cpio"),
            "--signing-certificate", files.path("cert.pem"), "--signing-key", files.path("key.pem"), "--output", files.path("signed.eif"),
        ])
        try #require(build.status == 0, "\(build.stderr)")
        let oracle = try Tools.oracle(["read", files.path("signed.eif")])
        #expect(oracle["signature_valid"] as? Bool == true)
        #expect(oracle["signed_pcr_matches"] as? Bool == true)
        #expect(build.text.contains("PCR8: \(try #require(oracle["PCR8"] as? String))\n"))
        #expect(try Tools.gatewayctl(["measure", files.path("signed.eif")]).text == build.text)
    }

    @Test func measureRefusesDamagedFilesWithTheReason() throws {
        let files = try Self.files()
        defer { try? FileManager.default.removeItem(at: files.directory) }
        let bytes = try EIFFormatTests.unsigned().image.encoded()
        var corrupted = bytes
        corrupted[2000] ^= 0x40
        try Data(corrupted).write(to: files.directory.appendingPathComponent("corrupted.eif"))
        try Data(bytes.dropLast(7)).write(to: files.directory.appendingPathComponent("truncated.eif"))
        let crc = try Tools.gatewayctl(["measure", files.path("corrupted.eif")])
        #expect(crc.status == 2 && crc.stdout.isEmpty)
        #expect(crc.stderr.contains("corrupted.eif: CRC32 mismatch"))
        let truncated = try Tools.gatewayctl(["measure", files.path("truncated.eif")])
        #expect(truncated.status == 2 && truncated.stderr.contains("extends past the end"))
        let missing = try Tools.gatewayctl(["measure", files.path("absent.eif")])
        #expect(missing.status == 2 && missing.stderr.contains("cannot read the EIF"))
        let both = try Tools.gatewayctl(["measure"])
        #expect(both.status != 0 && both.stderr.contains("either an EIF or --ramdisk"))
    }

    @Test func ramdiskCommandWritesTheTreeAndPrintsItsPCR2() throws {
        let staged = try Tools.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: staged) }
        try NewcArchiveTests.stage(in: staged, umask: 0o022, mtime: Date())
        let output = staged.path + ".cpio"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let run = try Tools.gatewayctl(["eif", "ramdisk", "--root", staged.path, "--output", output])
        try #require(run.status == 0, "\(run.stderr)")
        let archive = [UInt8](try Data(contentsOf: URL(fileURLWithPath: output)))
        #expect(archive == (try RamdiskTree.archive(under: staged)))
        let python = try Tools.run("python3", [Tools.oracle, "pcr2", output])
        #expect(run.text == "PCR2: \(python.text)")
    }
}
