import ConfidentialProxyKit
import Foundation
import Logging
import Testing

@Suite("confidential-proxy sealed disk cache")
struct SealedFileTests {
    static let kek = try! ClientKEK(parsing: String(repeating: "11", count: 32))
    static let otherKEK = try! ClientKEK(parsing: String(repeating: "22", count: 32))

    private func temporaryFile() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("cpx-\(UUID().uuidString)/cache.sealed")
    }

    @Test func roundTripAndPermissions() throws {
        let url = temporaryFile()
        let file = SealedFile(url: url, kek: Self.kek)
        let secret = Array("{\"tee_id\":\"0xabc\"}".utf8)
        try file.write(secret)
        #expect(try file.read()?.get() == secret)
        let stored = try #require(FileManager.default.contents(atPath: url.path))
        #expect(!String(decoding: stored, as: UTF8.self).contains("tee_id"), "the file must not hold the plaintext")
        let mode = try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        // Fresh nonce per write: the same plaintext seals differently.
        try file.write(secret)
        #expect(FileManager.default.contents(atPath: url.path) != stored)
    }

    @Test func anotherKEKIsIgnored() throws {
        let url = temporaryFile()
        try SealedFile(url: url, kek: Self.otherKEK).write(Array("pinned".utf8))
        guard case .failure(let reason)? = SealedFile(url: url, kek: Self.kek).read() else {
            Issue.record("a file sealed under another KEK opened")
            return
        }
        #expect(reason == .doesNotOpen)
        #expect(reason.description.contains("another CLIENT_KEK"))
    }

    @Test func corruptedOrTruncatedFilesAreIgnored() throws {
        let url = temporaryFile()
        let file = SealedFile(url: url, kek: Self.kek)
        try file.write(Array(repeating: 7, count: 100))
        var bytes = Array(try #require(FileManager.default.contents(atPath: url.path)))
        bytes[bytes.count - 20] ^= 0x01
        try Data(bytes).write(to: url)
        #expect(file.read().map { (try? $0.get()) == nil } == true)
        try Data(bytes.prefix(30)).write(to: url)
        #expect(failure(file.read()) == .notSealed)
        try Data("plain text".utf8).write(to: url)
        #expect(failure(file.read()) == .notSealed)
        try FileManager.default.removeItem(at: url)
        #expect(file.read() == nil)
    }

    @Test func attestationCacheIgnoresAnotherKEKWithAWarning() throws {
        let url = temporaryFile()
        let record = AttestationCache.Record(
            gateway: "https://127.0.0.1:8443", teeID: "0x01", signingKeySPKI: "30", certificateSHA256: "aa", ohttpKeyConfigs: nil,
            attested: true, verifiedAt: Date(timeIntervalSince1970: 1_800_000_000))
        let logs = CapturedLogs()
        let logger = Logger(label: "test") { _ in logs }
        AttestationCache(file: SealedFile(url: url, kek: Self.kek)).store(record, logger: logger)
        #expect(AttestationCache(file: SealedFile(url: url, kek: Self.kek)).load(logger: logger) == [record])
        #expect(AttestationCache(file: SealedFile(url: url, kek: Self.otherKEK)).load(logger: logger).isEmpty)
        #expect(logs.messages.contains { $0.contains("ignoring the attestation cache") && $0.contains("another CLIENT_KEK") }, "\(logs.messages)")
    }

    /// The AEAD against PyNaCl (libsodium's Python binding, an independent caller of the same
    /// construction) both ways, and the HKDF key against Python's `cryptography`.
    @Test func crossCheckedWithPyNaCl() throws {
        let key = SealedFile.deriveKey(Self.kek)
        let nonce = (0..<24).map { UInt8($0) }
        let plaintext = Array("attestation cache ✓".utf8)
        let sealed = SealedFile.seal(plaintext, key: key, nonce: nonce)
        let script = """
            import sys, binascii
            from nacl.bindings import crypto_aead_xchacha20poly1305_ietf_encrypt as enc, crypto_aead_xchacha20poly1305_ietf_decrypt as dec
            from cryptography.hazmat.primitives.kdf.hkdf import HKDF
            from cryptography.hazmat.primitives import hashes
            kek, sealed = binascii.unhexlify(sys.argv[1]), binascii.unhexlify(sys.argv[2])
            key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"confidential-proxy", info=b"disk-cache v1 xchacha20poly1305").derive(kek)
            magic, nonce, body = sealed[:8], sealed[8:32], sealed[32:]
            print(binascii.hexlify(key).decode())
            print(dec(body, magic, nonce, key).decode())
            print(binascii.hexlify(magic + nonce + enc(b"from python", magic, nonce, key)).decode())
            """
        let result = try runPython(script, [hex(Self.kek.bytes), hex(sealed)])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        try #require(lines.count == 3, "\(result.stdout)\n\(result.stderr)")
        #expect(lines[0] == hex(key), "HKDF key differs from Python cryptography's")
        #expect(lines[1] == "attestation cache ✓")
        let fromPython = try #require(unhex(lines[2]))
        #expect(try SealedFile.open(fromPython, key: key).get() == Array("from python".utf8))
    }
}

func failure(_ result: Result<[UInt8], SealedFile.ReadFailure>?) -> SealedFile.ReadFailure? {
    guard case .failure(let reason)? = result else { return nil }
    return reason
}

final class CapturedLogs: LogHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var captured: [String] = []
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    var messages: [String] { lock.withLock { captured } }
    func log(event: LogEvent) {
        lock.withLock { captured.append("\(event.level) \(event.message)") }
    }
}

func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

func unhex(_ text: String) -> [UInt8]? {
    let digits = Array(text)
    guard digits.count % 2 == 0 else { return nil }
    return stride(from: 0, to: digits.count, by: 2).compactMap { UInt8(String(digits[$0...$0 + 1]), radix: 16) }
}

struct ProgramResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// python3 from PATH (scripts/test puts .build-python/bin first, with Tests/requirements.txt).
func runPython(_ script: String, _ arguments: [String]) throws -> ProgramResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script] + arguments
    let output = Pipe(), errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let out = output.fileHandleForReading.readDataToEndOfFile()
    let err = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProgramResult(status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
}
