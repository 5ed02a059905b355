import ConfidentialProxyKit
import Foundation
import Testing

@Suite("confidential-proxy configuration")
struct ConfigurationTests {
    static let kekHex = String(repeating: "ab", count: 32)
    static let kekBase64 = Data(repeating: 0xab, count: 32).base64EncodedString()
    static let environment = [
        "ENCLAVE_URL": "https://127.0.0.1:8443", "PROXY_URL": "https://127.0.0.1:8443", "CLIENT_KEK": kekBase64,
    ]

    @Test func defaultsFromTheSeed() throws {
        let settings = try ProxySettings.resolve(flags: ProxyFlags(), environment: Self.environment)
        #expect(settings.host == "127.0.0.1")
        #expect(settings.port == 8000)
        #expect(settings.bodyLimit == 32 * 1024 * 1024)
        #expect(settings.logLevel == .info)
        #expect(settings.compat == .openai)
        #expect(settings.suite == .xWing)
        #expect(settings.kek.bytes == [UInt8](repeating: 0xab, count: 32))
        #expect(settings.isDirect, "PROXY_URL equal to ENCLAVE_URL is the direct mode")
    }

    @Test func flagsOverrideEnvironment() throws {
        var environment = Self.environment
        environment["HOST"] = "0.0.0.0"
        environment["PORT"] = "9001"
        environment["JSON_BODY_LIMIT"] = "1mb"
        environment["CONFIDENTIAL_PROXY_LOG_LEVEL"] = "silly"
        environment["PROXY_URL"] = "http://127.0.0.1:7000"
        var flags = ProxyFlags()
        flags.host = "127.0.0.2"
        flags.port = 9002
        flags.jsonBodyLimit = "2kb"
        flags.logLevel = "warn"
        flags.kek = Self.kekHex
        flags.compat = "both"
        flags.suite = "x25519"
        let settings = try ProxySettings.resolve(flags: flags, environment: environment)
        #expect(settings.host == "127.0.0.2")
        #expect(settings.port == 9002)
        #expect(settings.bodyLimit == 2048)
        #expect(settings.logLevel == .warn)
        #expect(settings.compat == .both)
        #expect(settings.suite == .x25519HKDFSHA256)
        #expect(!settings.isDirect)
        let fromEnvironment = try ProxySettings.resolve(flags: ProxyFlags(), environment: environment)
        #expect(fromEnvironment.host == "0.0.0.0")
        #expect(fromEnvironment.port == 9001)
        #expect(fromEnvironment.bodyLimit == 1024 * 1024)
        #expect(fromEnvironment.logLevel == .silly)
        #expect(fromEnvironment.logLevel.level == .trace)
    }

    @Test func routeTableOfTheSeed() {
        #expect(CompatMode.openai.prefixes.map(\.prefix) == ["/v1"])
        #expect(CompatMode.anthropic.prefixes.map(\.prefix) == ["/v1"])
        #expect(CompatMode.both.prefixes.map(\.prefix) == ["/openai/v1", "/anthropic/v1"])
        #expect(CompatMode.both.prefixes.map(\.dialect) == [.openai, .anthropic])
    }

    @Test(arguments: [
        ("32mb", 33_554_432), ("512kb", 524_288), ("1GB", 1_073_741_824), ("100", 100), ("100b", 100), ("1.5mb", 1_572_864),
    ])
    func sizes(text: String, bytes: Int) throws {
        #expect(try ByteSize.parse(text, name: "JSON_BODY_LIMIT") == bytes)
    }

    @Test(arguments: ["", "lots", "-1mb", "0", "12xb", "mb"])
    func badSizesNameTheVariable(text: String) {
        #expect(throws: ConfigurationError.self) { try ByteSize.parse(text, name: "JSON_BODY_LIMIT") }
        do { _ = try ByteSize.parse(text, name: "JSON_BODY_LIMIT") } catch { #expect(error.description.hasPrefix("JSON_BODY_LIMIT")) }
    }

    @Test func kekAcceptsHexAndBase64() throws {
        #expect(try ClientKEK(parsing: Self.kekHex).bytes == [UInt8](repeating: 0xab, count: 32))
        #expect(try ClientKEK(parsing: Self.kekBase64).bytes == [UInt8](repeating: 0xab, count: 32))
        #expect(try ClientKEK(parsing: Self.kekHex.uppercased()).bytes == [UInt8](repeating: 0xab, count: 32))
    }

    @Test(arguments: [
        Data(repeating: 1, count: 16).base64EncodedString(), Data(repeating: 1, count: 33).base64EncodedString(),
        String(repeating: "ab", count: 31), "not a key!", "",
    ])
    func wrongKEKIsRefusedNamingCLIENT_KEK(text: String) {
        var environment = Self.environment
        environment["CLIENT_KEK"] = text
        do {
            _ = try ProxySettings.resolve(flags: ProxyFlags(), environment: environment)
            Issue.record("a \(text.count)-character CLIENT_KEK was accepted")
        } catch {
            #expect(error.description.hasPrefix("CLIENT_KEK"), "\(error.description)")
        }
    }

    @Test func missingRequiredSettingsAreNamed() {
        for name in ["ENCLAVE_URL", "PROXY_URL", "CLIENT_KEK"] {
            var environment = Self.environment
            environment[name] = nil
            do {
                _ = try ProxySettings.resolve(flags: ProxyFlags(), environment: environment)
                Issue.record("resolved without \(name)")
            } catch {
                #expect(error.description.hasPrefix("\(name) is not set"), "\(error.description)")
            }
        }
    }

    @Test func badValuesAreNamed() {
        let cases: [(String, String, String)] = [
            ("CONFIDENTIAL_PROXY_LOG_LEVEL", "loud", "CONFIDENTIAL_PROXY_LOG_LEVEL"),
            ("PORT", "eighty", "PORT"), ("PORT", "70000", "PORT"),
            ("ENCLAVE_URL", "http://127.0.0.1:8443", "ENCLAVE_URL"), ("PROXY_URL", "ftp://relay", "PROXY_URL"),
        ]
        for (variable, value, named) in cases {
            var environment = Self.environment
            environment[variable] = value
            do {
                _ = try ProxySettings.resolve(flags: ProxyFlags(), environment: environment)
                Issue.record("\(variable)=\(value) was accepted")
            } catch {
                #expect(error.description.hasPrefix(named), "\(error.description)")
            }
        }
        var flags = ProxyFlags()
        flags.compat = "gemini"
        #expect(throws: ConfigurationError.self) { try ProxySettings.resolve(flags: flags, environment: Self.environment) }
        flags = ProxyFlags()
        flags.trust = TrustSettings(devRootPath: "/tmp/root.pem", noAttest: true)
        #expect(throws: ConfigurationError.self) { try ProxySettings.resolve(flags: flags, environment: Self.environment) }
    }

    @Test func directModeIgnoresTrailingSlashAndRelayPath() throws {
        var environment = Self.environment
        environment["PROXY_URL"] = "https://127.0.0.1:8443/v1/ohttp"
        #expect(try ProxySettings.resolve(flags: ProxyFlags(), environment: environment).isDirect)
        environment["PROXY_URL"] = "https://127.0.0.1:8443/"
        #expect(try ProxySettings.resolve(flags: ProxyFlags(), environment: environment).isDirect)
        environment["PROXY_URL"] = "https://127.0.0.1:9443"
        #expect(try !ProxySettings.resolve(flags: ProxyFlags(), environment: environment).isDirect)
    }

    @Test func runSetsBaseURLsPerSurface() {
        let both = CommandRunner.baseURLs(base: "http://127.0.0.1:5000", compat: .both)
        #expect(both == ["OPENAI_BASE_URL": "http://127.0.0.1:5000/openai/v1", "ANTHROPIC_BASE_URL": "http://127.0.0.1:5000/anthropic"])
        #expect(CommandRunner.baseURLs(base: "http://h:1", compat: .openai) == ["OPENAI_BASE_URL": "http://h:1/v1"])
        #expect(CommandRunner.baseURLs(base: "http://h:1", compat: .anthropic) == ["ANTHROPIC_BASE_URL": "http://h:1"])
    }

    @Test func dataDirectoryFollowsXDG() {
        #expect(DataDirectory.resolve(environment: ["XDG_DATA_HOME": "/x/data", "HOME": "/home/u"]).path == "/x/data/confidential-proxy")
        #expect(DataDirectory.resolve(environment: ["HOME": "/home/u"]).path == "/home/u/.local/share/confidential-proxy")
    }

    @Test func errorShapesMatchTheRoute() throws {
        let openai = try JSONSerialization.jsonObject(with: Data(ErrorBody.json(.openai, status: 502, message: "PCR0 mismatch"))) as? [String: Any]
        #expect((openai?["error"] as? [String: Any])?["message"] as? String == "PCR0 mismatch")
        let anthropic = try JSONSerialization.jsonObject(with: Data(ErrorBody.json(.anthropic, status: 502, message: "x"))) as? [String: Any]
        #expect(anthropic?["type"] as? String == "error")
        #expect((anthropic?["error"] as? [String: Any])?["type"] as? String == "api_error")
        #expect(ErrorBody.streamEvent(.anthropic, message: "bad").hasPrefix("event: error\ndata: {"))
        #expect(!ErrorBody.streamEvent(.openai, message: "bad").contains("[DONE]"))
    }
}
