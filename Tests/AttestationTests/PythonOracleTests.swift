import Attestation
import Foundation
import Testing

/// Cross-checks simulated documents with an independent implementation (Python cbor2 +
/// cryptography), so our CBOR encoder and COSE signer are judged by code that is not ours.
@Suite struct PythonOracleTests {
    struct OracleUnavailable: Error, CustomStringConvertible {
        var description: String
    }

    struct OracleRun {
        var status: Int32
        var output: [String: Any]
    }

    static func runOracle(document: [UInt8], rootPEM: String, at time: Date) throws -> OracleRun {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("oracle-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let documentFile = directory.appendingPathComponent("document.cbor")
        let rootFile = directory.appendingPathComponent("root.pem")
        try Data(document).write(to: documentFile)
        try Data(rootPEM.utf8).write(to: rootFile)

        let script = Vectors.packageRoot.appendingPathComponent("Tests/AttestationTests/Oracle/verify_nsm_document.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, documentFile.path, rootFile.path, "\(time.timeIntervalSince1970)"]
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 || process.terminationStatus == 1 else {
            throw OracleUnavailable(
                description: "Python oracle could not run (exit \(process.terminationStatus)); "
                    + "install python3 and Tests/requirements.txt: \(err)"
            )
        }
        let object = try #require(
            try JSONSerialization.jsonObject(with: out) as? [String: Any], "oracle output: \(err)")
        return OracleRun(status: process.terminationStatus, output: object)
    }

    @Test func simulatedDocumentVerifiesUnderCbor2AndCryptography() throws {
        let authority = try DevCertificateAuthority()
        let pcr = [UInt8](repeating: 0x5a, count: 48)
        let nsm = try SimulatedNSM(pcrs: [0: pcr, 8: pcr], authority: authority)
        let nonce = Array("oracle nonce".utf8)
        let userData = [UInt8](repeating: 0x12, count: 68)
        let bytes = try nsm.attest(nonce: nonce, userData: userData, publicKey: nil)
        let document = try AttestationDocument(decoding: try COSESign1(decoding: bytes).payload)

        let run = try Self.runOracle(document: bytes, rootPEM: try authority.rootPEM(), at: document.date)
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output["signature"] as? String == "ok")
        #expect(run.output["chain"] as? String == "ok")
        #expect(run.output["reencodes_identically"] as? Bool == true)
        #expect(run.output["tagged"] as? Bool == false)
        #expect(run.output["unprotected_empty"] as? Bool == true)
        #expect(run.output["protected"] as? [String: Int] == ["1": -35])
        #expect(
            run.output["keys"] as? [String] == [
                "module_id", "digest", "timestamp", "pcrs", "certificate", "cabundle", "public_key", "user_data",
                "nonce",
            ])
        #expect(run.output["digest"] as? String == "SHA384")
        #expect((run.output["timestamp"] as? NSNumber)?.uint64Value == document.timestamp)
        #expect(run.output["nonce"] as? String == nonce.map { String(format: "%02x", $0) }.joined())
        #expect(run.output["user_data"] as? String == String(repeating: "12", count: 68))
        #expect(run.output["public_key"] is NSNull)
        let pcrs = try #require(run.output["pcrs"] as? [String: String])
        #expect(pcrs.count == 16)
        #expect(pcrs["8"] == String(repeating: "5a", count: 48))
        #expect(pcrs["1"] == String(repeating: "00", count: 48))
    }

    /// The oracle is not a rubber stamp: it rejects what our verifier rejects.
    @Test func oracleRejectsATamperedSignatureAndAWrongRoot() throws {
        let authority = try DevCertificateAuthority()
        let bytes = try SimulatedNSM(authority: authority).attest(nonce: nil, userData: nil, publicKey: nil)
        let document = try AttestationDocument(decoding: try COSESign1(decoding: bytes).payload)

        let tampered = try Self.runOracle(
            document: bytes.flipping(bytes.count - 1), rootPEM: try authority.rootPEM(), at: document.date)
        #expect(tampered.status == 1)
        #expect(tampered.output["signature"] as? String == "invalid")

        let wrongRoot = try Self.runOracle(document: bytes, rootPEM: try Vectors.awsRootPEM(), at: document.date)
        #expect(wrongRoot.status == 1)
        #expect(wrongRoot.output["chain"] as? String == "cabundle[0] is not the given root")
    }
}
