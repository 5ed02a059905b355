import Foundation
import Testing

/// Locates `Tests/Vectors` from this file, so tests run the same in /work/main and a scratch package.
enum Vectors {
    static let packageRoot: URL = {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while directory.path != "/" {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
                return directory
            }
            directory.deleteLastPathComponent()
        }
        return directory
    }()

    static let directory = packageRoot.appendingPathComponent("Tests/Vectors")
    static let nitroReal = directory.appendingPathComponent("nitro-real")

    static func awsRootPEM() throws -> String {
        try String(contentsOf: directory.appendingPathComponent("aws-nitro-root-g1.pem"), encoding: .utf8)
    }

    /// Names of the real documents (`NAME.b64` + `NAME.json`) whose metadata expects `expected`.
    static func realDocumentNames(expected: String) -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: nitroReal.path)) ?? []
        return files.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted().filter { name in
            (try? RealDocument(name: name))?.expectedResult == expected
        }
    }
}

/// One real Nitro document with the fields of its metadata the tests compare against.
struct RealDocument {
    let name: String
    let bytes: [UInt8]
    let expectedResult: String
    let verifyAt: Date
    let metadata: [String: Any]

    init(name: String) throws {
        self.name = name
        let base64 = try String(contentsOf: Vectors.nitroReal.appendingPathComponent("\(name).b64"), encoding: .utf8)
        bytes = Array(try #require(Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines))))
        let json = try Data(contentsOf: Vectors.nitroReal.appendingPathComponent("\(name).json"))
        metadata = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        expectedResult = try #require(metadata["expected_result"] as? String)
        verifyAt = try Date(try #require(metadata["verify_at"] as? String), strategy: .iso8601)
    }

    func hexField(_ key: String) throws -> [UInt8] {
        try Self.hex(try #require(metadata[key] as? String))
    }

    /// `nonce`/`user_data`/`public_key` metadata: nil when the document carries null.
    func optionalField(_ key: String) throws -> [UInt8]? {
        let field = try #require(metadata[key] as? [String: Any])
        guard field["has_value"] as? Bool == true else { return nil }
        return try Self.hex(try #require(field["hex"] as? String))
    }

    static func hex(_ text: String) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(try #require(UInt8(text[index..<next], radix: 16)))
            index = next
        }
        return bytes
    }
}

/// SplitMix64: deterministic tamper positions, so a failure reproduces.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension Array where Element == UInt8 {
    /// Offsets of the first occurrence of `needle` (the ranges of embedded values).
    func range(of needle: [UInt8]) -> Range<Int>? {
        guard !needle.isEmpty, needle.count <= count else { return nil }
        for start in 0...(count - needle.count) where self[start..<start + needle.count].elementsEqual(needle) {
            return start..<start + needle.count
        }
        return nil
    }

    func flipping(_ offset: Int) -> [UInt8] {
        var copy = self
        copy[offset] ^= 0x01
        return copy
    }
}
