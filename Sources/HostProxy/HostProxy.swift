import ArgumentParser
import EnclaveIPC
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
            metrics: try common.metricsEndpoint()
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
            metrics: try common.metricsEndpoint()
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
            metrics: try common.metricsEndpoint()
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
        abstract: "Relay one command (status, rotate-workers, scale N, ...) to the supervisor's control channel."
    )

    @Option(help: "The supervisor's control endpoint, e.g. vsock://16:9000.")
    var control: String

    @Option(help: "Seconds to wait for the reply.")
    var timeout: Int = 30

    @Argument(help: "The command and its arguments.")
    var command: [String]

    func validate() throws {
        guard !command.isEmpty else { throw ValidationError("name a command, e.g. status") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
    }

    func run() async throws {
        let reply = try await ControlRelay.send(
            command.joined(separator: " "), to: try endpoint(control, flag: "control"), timeout: .seconds(timeout))
        print(reply)
        // The supervisor answers `ok …` or `error <reason>`; scripts need the refusal as a status.
        if reply.hasPrefix("error") { throw ExitCode(1) }
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
