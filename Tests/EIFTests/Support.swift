import Crypto
import EIF
import Foundation
import SwiftASN1
import Testing
import X509

/// Runs the tools the EIF tests judge our output with: the Python oracle (its own reading of
/// the format), Debian's `cpio`, and the built `gatewayctl`.
enum Tools {
    struct Run {
        var status: Int32
        var stdout: [UInt8]
        var stderr: String
        var text: String { String(decoding: stdout, as: UTF8.self) }
    }

    static let packageRoot: URL = {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while directory.path != "/" {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) { return directory }
            directory.deleteLastPathComponent()
        }
        return directory
    }()

    static let oracle = packageRoot.appendingPathComponent("Tests/EIFTests/Oracle/eif_oracle.py").path

    static func run(_ executable: String, _ arguments: [String], in directory: URL? = nil) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        if let directory { process.currentDirectoryURL = directory }
        // stderr goes to a file, so a chatty tool cannot block on a full pipe while we read stdout.
        let errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("eif-stderr-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errorFile) }
        let errors = try FileHandle(forWritingTo: errorFile)
        let output = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try errors.close()
        let err = (try? Data(contentsOf: errorFile)) ?? Data()
        return Run(status: process.terminationStatus, stdout: Array(out), stderr: String(decoding: err, as: UTF8.self))
    }

    /// The oracle's JSON for `arguments`; fails the test with the oracle's stderr when it cannot run.
    static func oracle(_ arguments: [String]) throws -> [String: Any] {
        let run = try run("python3", [oracle] + arguments)
        try #require(run.status == 0, "oracle failed (install python3 with Tests/requirements.txt): \(run.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(run.stdout)) as? [String: Any])
    }

    static func gatewayctl(_ arguments: [String]) throws -> Run {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("gatewayctl")
        return try run(binary.path, arguments)
    }

    static func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("eif-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }
}

/// Synthetic sections: random-looking but fixed bytes, so failures reproduce.
enum Synthetic {
    static func bytes(_ count: Int, seed: UInt8) -> [UInt8] {
        var state = UInt32(seed) &* 2_654_435_761 &+ 1
        return (0..<count).map { _ in
            state = state &* 1_103_515_245 &+ 12345
            return UInt8(truncatingIfNeeded: state >> 16)
        }
    }

    static let kernel = bytes(70_001, seed: 1)
    static let cmdline = "reboot=k panic=30 pci=off nomodules console=ttyS0 random.trust_cpu=on"
    static let bootstrap = bytes(20_003, seed: 2)
    static let customer = bytes(33_333, seed: 3)
    static let secondCustomer = bytes(5, seed: 4)

    /// A self-signed P-384 signing certificate and its key, as `openssl req -x509` would make.
    static func signingIdentity() throws -> (certificatePEM: String, keyPEM: String, certificateDER: [UInt8]) {
        let key = P384.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName("eif signing test") }
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(86_400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA384,
            extensions: Certificate.Extensions(), issuerPrivateKey: .init(key)
        )
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        let der = serializer.serializedBytes
        let pem = PEMDocument(type: "CERTIFICATE", derBytes: der).pemString + "\n"
        return (pem, key.pemRepresentation, der)
    }
}

/// The EIFError `body` throws, or nil when it succeeds or throws something else.
func refusal(_ body: () throws -> Any) -> EIFError? {
    do {
        _ = try body()
        return nil
    } catch let error as EIFError {
        return error
    } catch {
        return nil
    }
}
