import Foundation
import GatewayCore
import Testing

/// Finds the package root by walking up from this file to the first directory with a
/// Package.swift, so tests work in any checkout or scratch package.
func packageRoot(from file: String = #filePath) throws -> URL {
    var directory = URL(fileURLWithPath: file).deletingLastPathComponent()
    while directory.path != "/" {
        if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
            return directory
        }
        directory.deleteLastPathComponent()
    }
    throw TestSupportError("no Package.swift above \(file)")
}

struct TestSupportError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func hex(_ text: String) throws -> [UInt8] {
    try Hex.decode(text.filter { !$0.isWhitespace })
}

/// Tests/Vectors/ohttp-vectors.json.
struct OHTTPVectors: Decodable {
    struct GatewayKeyConfig: Decodable {
        let key_id: UInt8
        let kem_id: UInt16
        let kdf_id: UInt16
        let aead_id: UInt16
        let public_key: String
        let encoded: String
    }

    struct SingleShot: Decodable {
        let secret, enc, response_nonce, aead_key, aead_nonce, plaintext_utf8, wire_after_nonce: String
    }

    struct Chunked: Decodable {
        let secret, enc, response_nonce, wire_after_nonce: String
        let chunks_utf8: [String]
        let final_index: Int
    }

    struct ConfigHash: Decodable {
        let tee_id, key_config, public_key, domain, hash: String
        let ids: [UInt16]
    }

    struct AppendixA: Decodable {
        let server_private_key, key_config, bhttp_request, ephemeral_private_key, encapsulated_request: String
        let response_secret, response_nonce, aead_key, aead_nonce, encapsulated_response, bhttp_response: String
    }

    let gateway_key_config: GatewayKeyConfig
    let single_shot_response: SingleShot
    let chunked_response: Chunked
    let varints: [String: String]
    let config_hash: ConfigHash
    let rfc9458_appendix_a: AppendixA

    static func load() throws -> OHTTPVectors {
        let url = try packageRoot().appendingPathComponent("Tests/Vectors/ohttp-vectors.json")
        return try JSONDecoder().decode(OHTTPVectors.self, from: Data(contentsOf: url))
    }
}

/// Deterministic generator so "random" splits are reproducible from the seed in a failure message.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
