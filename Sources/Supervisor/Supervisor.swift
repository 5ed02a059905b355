import ArgumentParser
import EnclaveIPC
import Foundation
import Logging
import Payments
import SupervisorKit

@main
struct SupervisorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "supervisor",
        abstract: "Enclave entrypoint: starts key-service, tls-front and the worker pool, restarts crashed children.",
        subcommands: [Ctl.self]
    )

    @Flag(help: "Run the whole appliance on loopback: TLS on 127.0.0.1, simulated NSM, local model.")
    var dev = false

    @Option(help: "TLS port on 127.0.0.1 (dev mode).")
    var port: Int = 8443

    @Option(help: "Where tls-front listens; overrides --port (e.g. vsock://4294967295:443 in the enclave).")
    var listen: String?

    @Option(help: "Number of inference workers.")
    var workers: Int = 2

    @Option(name: .customLong("runtime-dir"), help: "Directory for sockets and the certificate (default: a new /tmp/enclave-gateway-XXXXXX).")
    var runtimeDirectory: String?

    @Option(
        name: .customLong("bin-dir"),
        help: "Where key-service, tls-front, inference-worker and host-proxy are (default: next to this executable)."
    )
    var binDirectory: String?

    @Option(name: .customLong("worker-arg"), help: "Extra argument for every worker (repeatable), e.g. --worker-arg=--local-token-delay-ms --worker-arg=20.")
    var workerArguments: [String] = []

    @Option(
        help: ArgumentHelp(
            "The host's egress proxy (vsock://3:8001 in the enclave; any endpoint in dev). Starts the egress bridge "
                + "(host-proxy bridge) before the workers and passes each worker --egress-proxy pointing at it."
        )
    )
    var egress: String?

    @Option(
        name: .customLong("egress-listen"),
        help: "Where the egress bridge accepts the workers' CONNECT requests (a tcp:// endpoint)."
    )
    var egressListen = "tcp://127.0.0.1:3128"

    @Flag(
        name: .customLong("proxy-protocol"),
        help: "tls-front expects a PROXY protocol v2 header on every connection (host-proxy ingress sends one)."
    )
    var proxyProtocol = false

    @Option(
        name: .customLong("control-listen"),
        help: ArgumentHelp(
            "Also accept control commands here, for host-proxy ctl (e.g. vsock://4294967295:9000 in the enclave): "
                + "status and metrics for anyone, changes only signed by the --operator-key key."
        )
    )
    var controlListen: String?

    @Option(
        name: .customLong("operator-key"),
        help: "The operator's Ed25519 public key (PEM or base64): enables POST /v1/keys injection and signed host control commands."
    )
    var operatorKey: String?

    @Option(
        name: .customLong("x402"),
        help: ArgumentHelp(
            "Turn on x402 payments with this JSON configuration (docs/payments.md): pay_to, network, asset, prices per model, "
                + "facilitator_url…; a malformed file refuses the start. The worker user must be able to read it."
        )
    )
    var x402: String?

    @Flag(name: .customLong("restart-key-service"), help: "Restart key-service when it dies (new keys, new tee_id) instead of stopping the appliance.")
    var restartKeyService = false

    @Option(
        name: .customLong("user"),
        help: ArgumentHelp(
            "As root: the uid (or user name) a role runs under, e.g. --user worker=3803 (repeatable; roles key-service, "
                + "tls-front, worker, egress-bridge; defaults 3801-3804).",
            valueName: "role=uid"
        )
    )
    var users: [String] = []

    @Option(name: .customLong("group"), help: "As root: the primary group (gid or name) of every child (default 3800).")
    var group: String?

    func validate() throws {
        guard (1...64).contains(workers) else { throw ValidationError("--workers must be 1-64, got \(workers)") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0-65535, got \(port)") }
    }

    func run() async throws {
        // Before the first line: dying of SIGPIPE when stdout closes would orphan the children.
        // Lines written to a closed stdout are lost instead (writeLine).
        signal(SIGPIPE, SIG_IGN)
        // Checked here, not in validate(): ArgumentParser also validates this command for `ctl`.
        guard dev || listen != nil else {
            throw ValidationError("outside --dev, pass --listen (e.g. vsock://4294967295:443)")
        }
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let listenEndpoint: Endpoint
        do {
            listenEndpoint = try listen.map { try Endpoint(parsing: $0) } ?? Endpoint.tcp(host: "127.0.0.1", port: UInt16(port))
        } catch {
            throw ValidationError("\(error)")
        }
        let egressBridge = try makeEgressBridge()
        let x402Path = try x402.map(validatedPaymentConfiguration)
        let runtime = try runtimeDirectory ?? RuntimeDirectory.makeTemporary()
        let ownDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
        let configuration = SupervisorConfiguration(
            programs: .init(directory: binDirectory ?? ownDirectory),
            runtimeDirectory: runtime,
            listen: listenEndpoint,
            workerCount: workers,
            dev: dev,
            workerArguments: workerArguments
                + (x402Path.map { ["--x402", $0, "--x402-journal", SupervisorConfiguration.journalDirectory(runtime: runtime)] } ?? []),
            tlsFrontArguments: proxyProtocol ? ["--proxy-protocol"] : [],
            restartKeyService: restartKeyService,
            egressBridge: egressBridge,
            hostControl: try controlListen.map { text in
                do {
                    return try Endpoint(parsing: text)
                } catch {
                    throw ValidationError("--control-listen: \(error)")
                }
            },
            operatorKeyPath: operatorKey.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        )
        let supervisor = Supervisor(configuration: try withRoles(configuration), output: writeLine)
        let signals = TerminationSignals { supervisor.shutdown() }
        defer { signals.cancel() }
        let pointer = RuntimeDirectory.pointerFile()
        defer { RuntimeDirectory.removePointer(controlSocket: configuration.controlSocket, at: pointer) }
        let dev = self.dev
        try await supervisor.run { ready in
            try? RuntimeDirectory.writePointer(controlSocket: configuration.controlSocket, to: pointer)
            writeLine(
                dev ? ready.banner() : "[supervisor] ready: \(ready.url) certificate-sha256=\(ready.certificateSHA256)")
        }
    }
}

/// Writes `text` and a newline to stdout at once. `print` would block-buffer when stdout is a
/// pipe (a test, journald, a log shipper), holding back the banner and the children's lines
/// until the buffer fills or the supervisor exits. A closed stdout (`supervisor | head`) loses
/// the line instead of trapping: the appliance keeps running and stops as it would otherwise.
@Sendable private func writeLine(_ text: String) {
    try? FileHandle.standardOutput.write(contentsOf: Data((text + "\n").utf8))
}

extension SupervisorCommand {
    /// Reads and checks `--x402` before anything starts; returns its absolute path for the workers.
    func validatedPaymentConfiguration(_ path: String) throws -> String {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        guard let data = FileManager.default.contents(atPath: absolute) else { throw ValidationError("--x402 \(path): cannot read the file") }
        do {
            _ = try PaymentConfiguration(parsing: Array(data))
        } catch {
            throw ValidationError("--x402 \(path): \(error)")
        }
        return absolute
    }

    /// `--user` and `--group` applied to the default roles; only meaningful as root, where the
    /// supervisor switches users (as anyone else it cannot, and says so at start).
    func withRoles(_ configuration: SupervisorConfiguration) throws -> SupervisorConfiguration {
        guard !users.isEmpty || group != nil else { return configuration }
        guard var roles = configuration.roles else {
            throw ValidationError("--user and --group need the supervisor to run as root (only root can switch users)")
        }
        do {
            for entry in users { try roles.assign(entry) }
            if let group { try roles.assignGroup(group) }
            try roles.validate()
        } catch {
            throw ValidationError("\(error)")
        }
        var configuration = configuration
        configuration.roles = roles
        return configuration
    }

    /// `--egress` and `--egress-listen` as the supervisor's bridge configuration; nil without `--egress`.
    func makeEgressBridge() throws -> SupervisorConfiguration.EgressBridge? {
        guard let egress else {
            guard egressListen == "tcp://127.0.0.1:3128" else {
                throw ValidationError("--egress-listen needs --egress")
            }
            return nil
        }
        let upstream: Endpoint
        let listen: Endpoint
        do {
            upstream = try Endpoint(parsing: egress)
        } catch {
            throw ValidationError("--egress: \(error)")
        }
        do {
            listen = try Endpoint(parsing: egressListen)
        } catch {
            throw ValidationError("--egress-listen: \(error)")
        }
        guard case .tcp(let host, let port) = listen.address, port != 0 else {
            throw ValidationError(
                "--egress-listen \(egressListen): expected tcp://HOST:PORT with a fixed port, "
                    + "e.g. tcp://127.0.0.1:3128 (workers are given HOST:PORT as their HTTP proxy)"
            )
        }
        return SupervisorConfiguration.EgressBridge(upstream: upstream, host: host, port: port)
    }
}

struct Ctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Control a running appliance: status | metrics | rotate-workers | scale N | restart NAME | drain | shutdown."
    )

    @Option(help: "The supervisor's control socket (default: the running dev appliance's, from the pointer file).")
    var control: String?

    @Argument(help: "The command and its argument.")
    var command: [String]

    func run() async throws {
        let socket = try control ?? RuntimeDirectory.readPointer(RuntimeDirectory.pointerFile())
        do {
            let reply = try await SupervisorControlClient.send(command.joined(separator: " "), to: socket)
            print(reply)
        } catch {
            try? FileHandle.standardError.write(contentsOf: Data("supervisor ctl: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
