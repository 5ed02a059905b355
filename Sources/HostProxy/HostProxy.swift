import ArgumentParser
import Crypto
import EnclaveIPC
import Foundation
import HostProxyKit
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

@main
struct HostProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "host-proxy",
        abstract: "EC2-host proxy: TCP to vsock ingress, allowlisted vsock to internet egress.",
        subcommands: [Ingress.self, Egress.self, Bridge.self, Run.self, Ctl.self, Relay.self]
    )
}

/// Endpoint flags are parsed here rather than by ArgumentParser so a mistyped address gets
/// EndpointError's message (which part is wrong and what was expected).
private func endpoint(_ text: String, flag: String) throws -> Endpoint {
    do {
        return try Endpoint(parsing: text)
    } catch {
        throw ValidationError("--\(flag): \(error)")
    }
}

struct Common: ParsableArguments {
    @Option(help: "Serve Prometheus /metrics here (host-local), e.g. tcp://127.0.0.1:9101.")
    var metrics: String?

    @Option(
        name: .customLong("enclave-metrics"),
        help: "The supervisor's control listener (e.g. vsock://16:9000): /metrics then also carries the enclave's metrics."
    )
    var enclaveMetrics: String?

    @Option(help: "Close connections after this many seconds without traffic.")
    var idleTimeout: Int = 300

    @Option(help: "Refuse connections beyond this many at once.")
    var maxConnections: Int = 1024

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func validate() throws {
        guard idleTimeout > 0 else { throw ValidationError("--idle-timeout must be positive") }
        guard maxConnections > 0 else { throw ValidationError("--max-connections must be positive") }
    }

    var limits: TunnelLimits { TunnelLimits(idleTimeout: .seconds(idleTimeout)) }

    func metricsEndpoint() throws -> Endpoint? {
        try metrics.map { try endpoint($0, flag: "metrics") }
    }

    func enclaveMetricsEndpoint() throws -> Endpoint? {
        guard let enclaveMetrics else { return nil }
        guard metrics != nil else { throw ValidationError("--enclave-metrics needs --metrics (where /metrics is served)") }
        return try endpoint(enclaveMetrics, flag: "enclave-metrics")
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

struct Ingress: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Forward each connection to the enclave with a PROXY v2 header."
    )

    @Option(help: "Where clients connect.")
    var listen = "tcp://0.0.0.0:443"

    @Option(help: "The enclave's tls-front, e.g. vsock://16:443.")
    var enclave: String

    @OptionGroup var common: Common

    func run() async throws {
        let configuration = HostProxyConfiguration(
            ingress: ForwardingConfiguration(
                listen: try endpoint(listen, flag: "listen"),
                upstream: try endpoint(enclave, flag: "enclave"),
                maxConnections: common.maxConnections,
                limits: common.limits
            ),
            metrics: try common.metricsEndpoint(),
            enclaveMetrics: try common.enclaveMetricsEndpoint()
        )
        try await serve(configuration, logLevel: common.logLevel)
    }
}

struct Egress: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "HTTP CONNECT proxy for the enclave, limited to an allowlist."
    )

    @Option(help: "Where the enclave's bridge connects, e.g. vsock://3:8001.")
    var listen: String

    @Option(help: "Allowlist file: one HOST:PORT or *.SUFFIX:PORT per line, # comments.")
    var allowlist: String

    @Flag(help: "Allow loopback upstreams (dev mode and tests only).")
    var allowLoopback = false

    @Flag(help: "Allow private upstreams (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7).")
    var allowPrivate = false

    @OptionGroup var common: Common

    func run() async throws {
        let configuration = HostProxyConfiguration(
            egress: EgressConfiguration(
                listen: try endpoint(listen, flag: "listen"),
                allowlist: try Allowlist.load(path: allowlist),
                addressPolicy: AddressPolicy(allowLoopback: allowLoopback, allowPrivate: allowPrivate),
                maxConnections: common.maxConnections,
                limits: common.limits
            ),
            metrics: try common.metricsEndpoint(),
            enclaveMetrics: try common.enclaveMetricsEndpoint()
        )
        try await serve(configuration, logLevel: common.logLevel)
    }
}

struct Bridge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inside the enclave: forward local CONNECT clients, unchanged, to the host's egress."
    )

    @Option(help: "Where workers connect (their HTTPS proxy).")
    var listen = "tcp://127.0.0.1:3128"

    @Option(help: "The host's egress proxy.")
    var upstream = "vsock://3:8001"

    @OptionGroup var common: Common

    func run() async throws {
        let configuration = HostProxyConfiguration(
            bridge: ForwardingConfiguration(
                listen: try endpoint(listen, flag: "listen"),
                upstream: try endpoint(upstream, flag: "upstream"),
                maxConnections: common.maxConnections,
                limits: common.limits
            ),
            metrics: try common.metricsEndpoint(),
            enclaveMetrics: try common.enclaveMetricsEndpoint()
        )
        try await serve(configuration, logLevel: common.logLevel)
    }
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run ingress, egress, bridge and metrics as a JSON configuration file says."
    )

    @Option(help: "JSON configuration file.")
    var config: String

    @Option(help: "Log level.")
    var logLevel: Logger.Level = .info

    func run() async throws {
        try await serve(try HostProxyConfiguration.load(path: config), logLevel: logLevel)
    }
}

struct Ctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Relay one command (status, metrics, rotate-workers, scale N, ...) to the supervisor's control channel.",
        discussion: """
            The supervisor's host-facing listener runs status and metrics for anyone; rotate-workers, \
            scale, restart, drain and shutdown only when signed by the operator key. With \
            --operator-key-file, ctl reads the appliance's tee_id from status and sends the command \
            signed over it and a fresh counter (the key stays on this host).
            """
    )

    @Option(help: "The supervisor's control endpoint, e.g. vsock://16:9000.")
    var control: String

    @Option(help: "Seconds to wait for the reply.")
    var timeout: Int = 30

    @Option(
        name: .customLong("operator-key-file"),
        help: ArgumentHelp("The operator's Ed25519 private key (PEM), to sign the command.", valueName: "pem-file")
    )
    var operatorKeyFile: String?

    @Option(help: "The signed command's counter; must exceed every counter the appliance accepted (default: milliseconds since 1970).")
    var counter: UInt64?

    @Argument(help: "The command and its arguments.")
    var command: [String]

    func validate() throws {
        guard !command.isEmpty else { throw ValidationError("name a command, e.g. status") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        if counter != nil, operatorKeyFile == nil { throw ValidationError("--counter only applies to a signed command: pass --operator-key-file") }
    }

    func run() async throws {
        let target = try endpoint(control, flag: "control")
        let line = command.joined(separator: " ")
        let reply: String
        if let operatorKeyFile {
            let key = try loadKey(operatorKeyFile)
            let counter = counter ?? UInt64(max(0, Date().timeIntervalSince1970 * 1000))
            reply = try await ControlRelay.sendSigned(line, to: target, key: key, counter: counter, timeout: .seconds(timeout))
        } else {
            reply = try await ControlRelay.send(line, to: target, timeout: .seconds(timeout))
        }
        print(reply)
        // The supervisor answers `ok …` or `error <reason>`; scripts need the refusal as a status.
        if reply.hasPrefix("error") { throw ExitCode(1) }
    }

    private func loadKey(_ path: String) throws -> Curve25519.Signing.PrivateKey {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("--operator-key-file \(path): cannot read the file")
        }
        do {
            return try Curve25519.Signing.PrivateKey(pemRepresentation: String(decoding: data, as: UTF8.self))
        } catch {
            throw ValidationError("--operator-key-file \(path): not an Ed25519 private key in PEM (\(error))")
        }
    }
}

/// Runs the service until SIGTERM or SIGINT, which systemd and a shell send to stop it.
private func serve(_ configuration: HostProxyConfiguration, logLevel: Logger.Level) async throws {
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = logLevel
        return handler
    }
    let service = HostProxyService(configuration: configuration)
    let task = Task { try await service.run() }
    let signals = TerminationSignals { task.cancel() }
    defer { signals.cancel() }
    do {
        try await task.value
    } catch is CancellationError {
        // SIGTERM/SIGINT cancelled the service: a requested stop, exit 0 so systemd does not
        // record `systemctl stop` (or the supervisor's stop of the bridge) as a failure.
    }
}
