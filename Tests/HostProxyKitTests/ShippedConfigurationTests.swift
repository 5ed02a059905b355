import EnclaveIPC
import Foundation
import Testing

@testable import HostProxyKit

/// The files in image/ are what an operator installs; they must parse exactly as
/// `host-proxy run --config` parses them, and say what the unit and docs claim.
@Suite("shipped host-proxy configuration")
struct ShippedConfigurationTests {
    static func imageFile(_ name: String) throws -> String {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
            let parent = directory.deletingLastPathComponent()
            guard parent.path != directory.path else {
                throw ConfigurationError.invalid(path: name, reason: "no Package.swift")
            }
            directory = parent
        }
        return directory.appendingPathComponent("image").appendingPathComponent(name).path
    }

    @Test func exampleConfigurationParsesWithTheShippedAllowlist() throws {
        let configuration = try HostProxyConfiguration.load(path: try Self.imageFile("host-proxy.json"))
        let ingress = try #require(configuration.ingress)
        #expect(ingress.listen == (try Endpoint(parsing: "tcp://0.0.0.0:443")))
        #expect(ingress.upstream == .vsock(cid: 16, port: 443))
        let egress = try #require(configuration.egress)
        #expect(egress.listen == .vsock(cid: 3, port: 8001))
        #expect(egress.addressPolicy == AddressPolicy(allowLoopback: false, allowPrivate: false))
        #expect(egress.allowlist.allows(host: "api.openai.com", port: 443))
        #expect(!egress.allowlist.allows(host: "example.com", port: 443))
        #expect(configuration.bridge == nil, "the bridge runs inside the enclave, not on the host")
        #expect(configuration.metrics == (try Endpoint(parsing: "tcp://127.0.0.1:9101")))
    }

    /// The shipped ingress admits as many clients as tls-front does (its default --max-connections,
    /// 16,384), and the unit's open-file limit holds them: two descriptors per tunnel (client
    /// and enclave side), for ingress and egress, plus a margin for listeners and metrics.
    @Test func shippedLimitsHoldTheirConnections() throws {
        let configuration = try HostProxyConfiguration.load(path: try Self.imageFile("host-proxy.json"))
        let ingress = try #require(configuration.ingress?.maxConnections)
        let egress = try #require(configuration.egress?.maxConnections)
        #expect(ingress == 16384)
        let unit = try String(contentsOfFile: try Self.imageFile("host-proxy.service"), encoding: .utf8)
        let limit = try #require(unit.split(separator: "\n").first { $0.hasPrefix("LimitNOFILE=") }.flatMap { Int($0.dropFirst("LimitNOFILE=".count)) })
        #expect(2 * ingress + 2 * egress + 256 <= limit, "LimitNOFILE=\(limit)")
    }

    @Test func unitRunsTheExampleConfigurationUnderSystemdSupervision() throws {
        let unit = try String(contentsOfFile: try Self.imageFile("host-proxy.service"), encoding: .utf8)
        let lines = Set(unit.split(separator: "\n").map(String.init))
        #expect(lines.contains("Type=notify"))
        #expect(lines.contains("Restart=on-failure"))
        #expect(lines.contains { $0.hasPrefix("WatchdogSec=") })
        #expect(
            lines.contains {
                $0.hasPrefix("ExecStart=") && $0.contains(" run --config /etc/enclave-gateway/host-proxy.json")
            })
    }
}
