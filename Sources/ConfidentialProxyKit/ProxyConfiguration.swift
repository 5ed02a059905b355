import Foundation
import Logging
import OHTTP

/// Which API surface the proxy serves, and under which prefixes (the seed's route table).
public enum CompatMode: String, Sendable, CaseIterable {
    /// `/v1/*`, OpenAI only.
    case openai
    /// `/v1/*`, Anthropic Messages only.
    case anthropic
    /// `/openai/v1/*` and `/anthropic/v1/*` side by side, so the two never collide.
    case both

    /// The local prefix under which each dialect is served.
    public var prefixes: [(dialect: Dialect, prefix: String)] {
        switch self {
        case .openai: [(.openai, "/v1")]
        case .anthropic: [(.anthropic, "/v1")]
        case .both: [(.openai, "/openai/v1"), (.anthropic, "/anthropic/v1")]
        }
    }
}

/// The dialect of one local route: decides the inner paths it may reach and its error shape.
public enum Dialect: String, Sendable {
    case openai, anthropic
}

/// The seed's log levels (winston's names), mapped onto swift-log. swift-log has nothing between
/// `info` and `debug`, so `http` (one line per request: method, path, status, never bodies),
/// `verbose` and `debug` all map to `.debug`; `silly` is `.trace`.
public enum ProxyLogLevel: String, Sendable, CaseIterable {
    case error, warn, info, http, verbose, debug, silly

    public var level: Logger.Level {
        switch self {
        case .error: .error
        case .warn: .warning
        case .info: .info
        case .http, .verbose, .debug: .debug
        case .silly: .trace
        }
    }
}

/// `CLIENT_KEK`: 32 bytes, as 64 hex digits or base64 (the seed says base64, Prem's SDK writes
/// hex; both are accepted, anything else is refused naming the variable).
public struct ClientKEK: Sendable, Equatable {
    public let bytes: [UInt8]

    public init(parsing text: String) throws(ConfigurationError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.count == 64, trimmed.allSatisfy(\.isHexDigit) {
            var bytes: [UInt8] = []
            var index = trimmed.startIndex
            while index < trimmed.endIndex {
                let next = trimmed.index(index, offsetBy: 2)
                bytes.append(UInt8(trimmed[index..<next], radix: 16)!)
                index = next
            }
            self.bytes = bytes
            return
        }
        guard let data = Data(base64Encoded: trimmed) ?? Data(base64Encoded: Self.standardBase64(trimmed)) else {
            throw .invalid(
                "CLIENT_KEK",
                "must be 32 bytes as 64 hex digits or base64; got \(trimmed.count) characters that are neither "
                    + "(generate one with: openssl rand -base64 32)")
        }
        guard data.count == 32 else {
            throw .invalid(
                "CLIENT_KEK", "must be exactly 32 bytes; it decodes to \(data.count) bytes (generate one with: openssl rand -base64 32)")
        }
        bytes = Array(data)
    }

    /// base64url without padding → standard base64 with padding.
    private static func standardBase64(_ text: String) -> String {
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while standard.count % 4 != 0 { standard += "=" }
        return standard
    }
}

/// Sizes like body-parser's `limit`: a number with an optional unit b, kb, mb, gb (1024-based,
/// case-insensitive, fractions allowed: `1.5mb`). A bare number is bytes.
public enum ByteSize {
    public static func parse(_ text: String, name: String) throws(ConfigurationError) -> Int {
        let lowered = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(String, Double)] = [("kb", 1024), ("mb", 1024 * 1024), ("gb", 1024 * 1024 * 1024), ("b", 1)]
        var number = lowered
        var multiplier = 1.0
        for (unit, factor) in units where lowered.hasSuffix(unit) {
            number = String(lowered.dropLast(unit.count)).trimmingCharacters(in: .whitespaces)
            multiplier = factor
            break
        }
        guard let value = Double(number), value.isFinite, value > 0, value * multiplier < Double(Int.max / 2) else {
            throw .invalid(name, "'\(text)' is not a size such as 32mb, 512kb or 1048576")
        }
        return Int(value * multiplier)
    }
}

/// What the proxy trusts: `measurements.txt` plus PCR overrides for production, a dev root for
/// a dev appliance's simulated NSM, or nothing at all with `noAttest` (development only).
public struct TrustSettings: Sendable, Equatable {
    public var measurementsPath: String?
    /// PCR index → expected value, from `--pcrN` flags; they override the file's values.
    public var pcrs: [Int: [UInt8]]
    public var devRootPath: String?
    public var noAttest: Bool

    public init(measurementsPath: String? = nil, pcrs: [Int: [UInt8]] = [:], devRootPath: String? = nil, noAttest: Bool = false) {
        self.measurementsPath = measurementsPath
        self.pcrs = pcrs
        self.devRootPath = devRootPath
        self.noAttest = noAttest
    }
}

/// The server options as given on the command line: nil means "not given", so the environment
/// (and then the default) decides.
public struct ProxyFlags: Sendable {
    public var enclaveURL: String?
    public var proxyURL: String?
    public var kek: String?
    public var jsonBodyLimit: String?
    public var host: String?
    public var port: Int?
    public var logLevel: String?
    public var compat: String?
    public var suite: String?
    public var trust = TrustSettings()
    public var reattestSeconds: Int?

    public init() {}
}

/// Everything the proxy runs with, resolved once at start: flags over environment over defaults.
public struct ProxySettings: Sendable {
    public static let defaultBodyLimit = 32 * 1024 * 1024

    public var enclaveURL: String
    public var proxyURL: String
    public var kek: ClientKEK
    public var bodyLimit: Int
    public var host: String
    public var port: Int
    public var logLevel: ProxyLogLevel
    public var compat: CompatMode
    public var suite: HPKEKEM
    public var trust: TrustSettings
    /// Attestation is re-checked this often even when nothing goes wrong.
    public var reattestInterval: Duration

    /// PROXY_URL equal to ENCLAVE_URL: no relay, the ciphertext goes straight to the gateway.
    public var isDirect: Bool { Self.normalized(proxyURL) == Self.normalized(enclaveURL) }

    public static func resolve(flags: ProxyFlags, environment: [String: String]) throws(ConfigurationError) -> ProxySettings {
        func pick(_ flag: String?, _ variable: String) -> String? {
            if let flag, !flag.isEmpty { return flag }
            if let value = environment[variable], !value.isEmpty { return value }
            return nil
        }
        guard let enclave = pick(flags.enclaveURL, "ENCLAVE_URL") else {
            throw .missing("ENCLAVE_URL", "the gateway's https://HOST[:PORT] (or --enclave-url)")
        }
        guard enclave.lowercased().hasPrefix("https://") else {
            throw .invalid("ENCLAVE_URL", "'\(enclave)' must be https://HOST[:PORT]: the gateway is reached over attested TLS")
        }
        guard let proxy = pick(flags.proxyURL, "PROXY_URL") else {
            throw .missing("PROXY_URL", "an OHTTP relay URL, or the same value as ENCLAVE_URL to send directly (or --proxy-url)")
        }
        guard let scheme = URLComponents(string: proxy)?.scheme?.lowercased(), scheme == "https" || scheme == "http",
            URLComponents(string: proxy)?.host?.isEmpty == false
        else { throw .invalid("PROXY_URL", "'\(proxy)' must be an http:// or https:// URL") }
        guard let kekText = pick(flags.kek, "CLIENT_KEK") else {
            throw .missing("CLIENT_KEK", "32 bytes, base64 or 64 hex digits (or --kek); generate one with: openssl rand -base64 32")
        }
        let kek = try ClientKEK(parsing: kekText)
        let limit = try pick(flags.jsonBodyLimit, "JSON_BODY_LIMIT").map { v throws(ConfigurationError) in
            try ByteSize.parse(v, name: "JSON_BODY_LIMIT")
        } ?? defaultBodyLimit
        let host = pick(flags.host, "HOST") ?? "127.0.0.1"
        let port: Int
        if let flag = flags.port {
            port = flag
        } else if let text = environment["PORT"], !text.isEmpty {
            guard let value = Int(text) else { throw .invalid("PORT", "'\(text)' is not a port number") }
            port = value
        } else {
            port = 8000
        }
        guard (0...65535).contains(port) else { throw .invalid("PORT", "\(port) is out of range 0-65535") }
        let levelText = pick(flags.logLevel, "CONFIDENTIAL_PROXY_LOG_LEVEL") ?? "info"
        guard let level = ProxyLogLevel(rawValue: levelText.lowercased()) else {
            throw .invalid(
                "CONFIDENTIAL_PROXY_LOG_LEVEL",
                "'\(levelText)' is not one of \(ProxyLogLevel.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let compatText = flags.compat ?? "openai"
        guard let compat = CompatMode(rawValue: compatText.lowercased()) else {
            throw .invalid("--compat", "'\(compatText)' is not one of openai, anthropic, both")
        }
        let suite: HPKEKEM
        switch (flags.suite ?? "xwing").lowercased() {
        case "xwing", "x-wing": suite = .xWing
        case "x25519": suite = .x25519HKDFSHA256
        case let other: throw .invalid("--suite", "'\(other)' is not one of xwing, x25519")
        }
        let reattest = flags.reattestSeconds ?? 600
        guard reattest > 0 else { throw .invalid("--reattest-interval", "must be a positive number of seconds") }
        if flags.trust.noAttest, flags.trust.measurementsPath != nil || !flags.trust.pcrs.isEmpty || flags.trust.devRootPath != nil {
            throw .invalid("--no-attest", "cannot be combined with --measurements, --pcrN or --dev-root")
        }
        return ProxySettings(
            enclaveURL: enclave, proxyURL: proxy, kek: kek, bodyLimit: limit, host: host, port: port, logLevel: level,
            compat: compat, suite: suite, trust: flags.trust, reattestInterval: .seconds(reattest))
    }

    static func normalized(_ url: String) -> String {
        var text = url.lowercased()
        while text.hasSuffix("/") { text.removeLast() }
        if text.hasSuffix("/v1/ohttp") { text.removeLast("/v1/ohttp".count) }
        if text.hasPrefix("https://"), text.hasSuffix(":443") { text.removeLast(4) }
        return text
    }
}

/// A setting that cannot be used; the message names the variable or flag and what it needs.
public enum ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    case missing(String, String)
    case invalid(String, String)

    public var description: String {
        switch self {
        case .missing(let name, let what): "\(name) is not set: \(what)"
        case .invalid(let name, let why): "\(name): \(why)"
        }
    }
}
