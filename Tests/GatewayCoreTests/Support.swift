import Foundation
import Testing

@testable import GatewayCore

/// The repository root, found from this file so tests run from any working directory.
let repositoryRoot: URL = {
    var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    while !FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
        url = url.deletingLastPathComponent()
    }
    return url
}()

func vectorFile(_ name: String) throws -> Data {
    try Data(contentsOf: repositoryRoot.appendingPathComponent("Tests/Vectors/\(name)"))
}

func parse(_ text: String) throws -> JSONValue { try JSONParser().parse(text) }

func canonical(_ text: String, _ kind: RequestKind = .chat) throws -> String {
    String(decoding: try CanonicalRequest(kind: kind, body: parse(text)).bytes, as: UTF8.self)
}
