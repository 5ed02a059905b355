import ArgumentParser
import ConfidentialProxyKit
import Foundation
import Logging

@main
struct ConfidentialProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "confidential-proxy",
        abstract: "Local OpenAI/Anthropic-compatible proxy: attests the gateway, sends every request as OHTTP, verifies every answer.",
        discussion: """
            Point any OpenAI or Anthropic client at http://127.0.0.1:8000 (one base-URL change). Each request is \
            sealed (Oblivious HTTP, X-Wing by default) to the attested enclave key and sent through PROXY_URL; \
            each answer's tee_signature is checked against the attested signing key, with the request and \
            output hashes recomputed, before the client sees it. A failed check is a 502 naming the check.

            Environment (flags take precedence): ENCLAVE_URL, PROXY_URL (equal to ENCLAVE_URL: direct, no relay), \
            CLIENT_KEK (32 bytes, base64 or 64 hex; encrypts the on-disk cache), JSON_BODY_LIMIT (32mb), \
            HOST (127.0.0.1), PORT (8000), CONFIDENTIAL_PROXY_LOG_LEVEL (error, warn, info, http, verbose, debug, silly).
            """,
        subcommands: [Serve.self, Start.self, Stop.self, Status.self, Run.self],
        defaultSubcommand: Serve.self
    )
}

/// The server options every command accepts (the seed: "all commands accept the same server options").
struct ServerOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The gateway (attestation, keys, /v1/ohttp). Env: ENCLAVE_URL.", valueName: "https://HOST[:PORT]"))
    var enclaveURL: String?

    @Option(help: ArgumentHelp("OHTTP relay that forwards ciphertext to the gateway; equal to --enclave-url = direct. Env: PROXY_URL.", valueName: "url"))
    var proxyURL: String?

    @Option(help: ArgumentHelp("32-byte key (base64 or 64 hex) that encrypts what the proxy stores. Env: CLIENT_KEK.", valueName: "key"))
    var kek: String?

    @Option(help: ArgumentHelp("Largest request body (e.g. 32mb, 512kb); larger gets 413. Env: JSON_BODY_LIMIT.", valueName: "size"))
    var jsonBodyLimit: String?

    @Option(help: ArgumentHelp("Interface to bind (default 127.0.0.1). Env: HOST."))
    var host: String?

    @Option(help: ArgumentHelp("Port to listen on (default 8000). Env: PORT."))
    var port: Int?

    @Option(help: ArgumentHelp("error, warn, info, http, verbose, debug or silly (default info). Env: CONFIDENTIAL_PROXY_LOG_LEVEL.", valueName: "level"))
    var logLevel: String?

    @Option(help: ArgumentHelp("API surface: openai or anthropic on /v1/*, both on /openai/v1/* and /anthropic/v1/* (default openai).", valueName: "mode"))
    var compat: String?

    @Option(help: ArgumentHelp("OHTTP suite: xwing (post-quantum, default) or x25519.", valueName: "suite"))
    var suite: String?

    @Option(help: ArgumentHelp("The gateway image's measurements.txt: PCR0/1/2 (and 8) must match.", valueName: "file"))
    var measurements: String?

    @Option(name: .customLong("pcr0"), help: ArgumentHelp("Expected PCR0 (hex); overrides --measurements.", valueName: "hex"))
    var pcr0: String?
    @Option(name: .customLong("pcr1"), help: ArgumentHelp("Expected PCR1 (hex).", valueName: "hex"))
    var pcr1: String?
    @Option(name: .customLong("pcr2"), help: ArgumentHelp("Expected PCR2 (hex).", valueName: "hex"))
    var pcr2: String?
    @Option(name: .customLong("pcr8"), help: ArgumentHelp("Expected PCR8 (hex).", valueName: "hex"))
    var pcr8: String?

    @Option(help: ArgumentHelp("Also trust this dev root (PEM) from a dev appliance's simulated NSM. Never for production.", valueName: "pem-file"))
    var devRoot: String?

    @Flag(help: "Development only: do not verify attestation (answers are checked against the served key only). Warns on every start.")
    var noAttest = false

    @Option(help: ArgumentHelp("Re-check attestation this often, in seconds (default 600).", valueName: "seconds"))
    var reattestInterval: Int?

    @Option(help: ArgumentHelp("PID file of the daemon (default <data-dir>/proxy.pid).", valueName: "file"))
    var pidFile: String?

    @Option(help: ArgumentHelp("Daemon log file for start (default <data-dir>/proxy.log).", valueName: "file"))
    var logFile: String?

    @Option(help: ArgumentHelp("Max ms for in-flight requests to finish on shutdown; new ones get 503 (default 30000).", valueName: "ms"))
    var shutdownTimeout: Int = 30000

    var environment: [String: String] { ProcessInfo.processInfo.environment }
    var dataDirectory: URL { DataDirectory.resolve(environment: environment) }
    var pidFileURL: URL { pidFile.map { URL(fileURLWithPath: $0) } ?? dataDirectory.appendingPathComponent("proxy.pid") }
    var logFileURL: URL { logFile.map { URL(fileURLWithPath: $0) } ?? dataDirectory.appendingPathComponent("proxy.log") }

    func flags() throws -> ProxyFlags {
        var flags = ProxyFlags()
        flags.enclaveURL = enclaveURL
        flags.proxyURL = proxyURL
        flags.kek = kek
        flags.jsonBodyLimit = jsonBodyLimit
        flags.host = host
        flags.port = port
        flags.logLevel = logLevel
        flags.compat = compat
        flags.suite = suite
        flags.reattestSeconds = reattestInterval
        var pcrs: [Int: [UInt8]] = [:]
        for (index, text) in [(0, pcr0), (1, pcr1), (2, pcr2), (8, pcr8)] {
            guard let text else { continue }
            guard let bytes = Self.hex(text), bytes.count == 48 else {
                throw ValidationError("--pcr\(index): expected 96 hex digits (SHA-384), got '\(text)'")
            }
            pcrs[index] = bytes
        }
        flags.trust = TrustSettings(measurementsPath: measurements, pcrs: pcrs, devRootPath: devRoot, noAttest: noAttest)
        return flags
    }

    func settings() throws -> ProxySettings {
        do { return try ProxySettings.resolve(flags: flags(), environment: environment) } catch let error as ConfigurationError {
            throw ValidationError(error.description)
        }
    }

    /// Host and port for start/stop/status, which must not need ENCLAVE_URL or CLIENT_KEK.
    var localAddress: (host: String, port: Int) {
        (host ?? environment["HOST"].flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1", port ?? environment["PORT"].flatMap(Int.init) ?? 8000)
    }

    /// The daemon these options name: its PID file and the address it answers on.
    var daemon: DaemonControl {
        let address = localAddress
        return DaemonControl(pidFile: PIDFile(url: pidFileURL), host: address.host, port: address.port)
    }

    func logger(_ settings: ProxySettings) -> Logger {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = settings.logLevel.level
            return handler
        }
        var logger = Logger(label: "confidential-proxy")
        logger.logLevel = settings.logLevel.level
        return logger
    }

    private static func hex(_ text: String) -> [UInt8]? {
        let digits = Array(text.lowercased().hasPrefix("0x") ? text.dropFirst(2) : Substring(text))
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(digits[index...index + 1]), radix: 16) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }
}

/// Foreground (the default command).
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run in the foreground (the default).")

    @OptionGroup var options: ServerOptions

    func run() async throws {
        let settings = try options.settings()
        let logger = options.logger(settings)
        let runner = ProxyRunner(
            settings: settings, dataDirectory: options.dataDirectory, shutdownTimeout: .milliseconds(options.shutdownTimeout), logger: logger)
        do { try await runner.run() } catch let error as ProxyStartError {
            logger.critical("\(error.description)")
            throw ExitCode(1)
        }
    }
}

struct Start: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start as a background daemon: refuses a duplicate (PID file), logs to --log-file, returns once it answers.")

    @OptionGroup var options: ServerOptions

    func run() async throws {
        _ = try options.settings()  // refuse bad settings here, before spawning anything
        let control = options.daemon
        var arguments = Array(CommandLine.arguments.dropFirst())
        if let index = arguments.firstIndex(of: "start") { arguments.remove(at: index) }
        let outcome = await control.start(executable: selfExecutable(), arguments: ["serve"] + arguments, logFile: options.logFileURL)
        report(outcome)
    }
}

struct Stop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Stop the daemon: SIGTERM, up to 5 s to finish, then SIGKILL; removes the PID file.")

    @OptionGroup var options: ServerOptions

    func run() async throws {
        report(await options.daemon.stop())
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Exit 0 only when the daemon runs and answers; prints its pid, gateway, tee_id and when it last verified.")

    @OptionGroup var options: ServerOptions

    func run() async throws {
        report(await options.daemon.status())
    }
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run COMMAND with OPENAI_BASE_URL and ANTHROPIC_BASE_URL pointing at a proxy on a free port; exit with its status.",
        discussion: "Without --compat, both surfaces are served (/openai/v1 and /anthropic).")

    @OptionGroup var options: ServerOptions

    @Argument(parsing: .postTerminator, help: "The command and its arguments, after --.")
    var command: [String] = []

    func validate() throws {
        guard !command.isEmpty else { throw ValidationError("give the command after --, e.g. confidential-proxy run -- python app.py") }
    }

    func run() async throws {
        var settings = try options.settings()
        if options.compat == nil { settings.compat = .both }
        settings.port = 0
        let logger = options.logger(settings)
        let runner = ProxyRunner(
            settings: settings, dataDirectory: options.dataDirectory, shutdownTimeout: .milliseconds(options.shutdownTimeout), logger: logger)
        let status: Int32
        do { status = try await CommandRunner(runner: runner, command: command).run() } catch let error as ProxyStartError {
            logger.critical("\(error.description)")
            throw ExitCode(1)
        }
        throw ExitCode(status)
    }
}

private func report(_ outcome: DaemonOutcome) {
    if outcome.status == 0 {
        print(outcome.message)
    } else {
        try? FileHandle.standardError.write(contentsOf: Data(("confidential-proxy: " + outcome.message + "\n").utf8))
        Foundation.exit(outcome.status)
    }
}

/// This executable's own path, for `start` to spawn.
private func selfExecutable() -> String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
}
