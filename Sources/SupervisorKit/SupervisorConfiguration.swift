import EnclaveIPC
import Foundation

public struct SupervisorConfiguration: Sendable {
    /// The programs the supervisor runs. By default they sit next to the supervisor's own
    /// executable (one build, one directory); `--bin-dir` points elsewhere.
    public struct Programs: Sendable, Hashable {
        public var keyService: String
        public var tlsFront: String
        public var worker: String
        /// Runs the egress bridge (`host-proxy bridge`); only needed when `egressBridge` is set.
        /// Defaults to `host-proxy` in the worker's directory.
        public var hostProxy: String

        public init(keyService: String, tlsFront: String, worker: String, hostProxy: String? = nil) {
            self.keyService = keyService
            self.tlsFront = tlsFront
            self.worker = worker
            self.hostProxy =
                hostProxy
                ?? URL(fileURLWithPath: worker).deletingLastPathComponent().appendingPathComponent("host-proxy").path
        }

        public init(directory: String) {
            self.init(
                keyService: directory + "/key-service",
                tlsFront: directory + "/tls-front",
                worker: directory + "/inference-worker",
                hostProxy: directory + "/host-proxy"
            )
        }
    }

    /// The enclave's only way out (ARCHITECTURE §2): a `host-proxy bridge` child that accepts the
    /// workers' HTTP CONNECT requests on loopback TCP and forwards each connection unchanged to
    /// the host's egress proxy, which applies the allowlist. Every worker gets
    /// `--egress-proxy HOST:PORT` pointing at it.
    ///
    /// The bridge runs as a separate process (not in the supervisor) so a fault in it is one
    /// more restartable child, and the supervisor stays free of the proxy's dependencies.
    public struct EgressBridge: Sendable, Hashable {
        /// The host's egress proxy: `vsock://3:8001` in the enclave, any endpoint in dev.
        public var upstream: Endpoint
        /// The loopback address workers connect to. TCP, because an HTTP client's proxy setting
        /// is a host and port.
        public var host: String
        public var port: UInt16

        public init(upstream: Endpoint, host: String = "127.0.0.1", port: UInt16 = 3128) {
            self.upstream = upstream
            self.host = host
            self.port = port
        }

        /// `host:port`, with IPv6 literals in brackets: the form both `host-proxy` endpoints and
        /// the worker's `--egress-proxy` take after their prefix.
        var hostAndPort: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    public var programs: Programs
    /// Holds every Unix socket of the appliance, the supervisor's control socket and the
    /// generated certificate; created with mode 0700 if missing.
    public var runtimeDirectory: String
    /// Where tls-front accepts HTTPS (`tcp://127.0.0.1:8443` in dev, vsock 443 in the enclave).
    public var listen: Endpoint
    public var workerCount: Int
    /// Passes `--dev` to key-service and the workers (simulated NSM, local model, env keys).
    public var dev: Bool
    /// Extra arguments for each worker (e.g. `--local-token-delay-ms 20`) and for tls-front.
    public var workerArguments: [String]
    public var tlsFrontArguments: [String]
    /// A dead key-service takes the signing key with it, so by default the supervisor stops
    /// the appliance instead of silently changing `tee_id`; set this to restart it instead.
    public var restartKeyService: Bool
    public var readinessTimeout: Duration
    /// SIGTERM to SIGKILL, per child; covers draining long streams.
    public var stopGrace: Duration
    public var minimumRestartDelay: Duration
    public var maximumRestartDelay: Duration
    /// When set, the supervisor runs the egress bridge before the workers and points them at it;
    /// when nil, workers reach upstreams directly (dev mode without `--egress`).
    public var egressBridge: EgressBridge?
    /// A second control listener for the host (`vsock://4294967295:9000` in the enclave), which
    /// `host-proxy ctl` reaches over vsock. The Unix socket in the runtime directory always exists.
    public var hostControl: Endpoint?
    /// The operator's Ed25519 public key file, passed to key-service: without it key-service
    /// refuses every key injection.
    public var operatorKeyPath: String?
    /// The uids the children run under; nil runs them as the supervisor's own user (roles not
    /// enforced). The default enforces them exactly when the supervisor runs as root, which it
    /// always does in the enclave: switching users needs root.
    public var roles: RoleUsers?
    /// The Nitro Secure Module device. Outside dev mode with roles enforced the supervisor gives
    /// it to key-service's uid, mode 0600: key-service must open it, and no other role may ask
    /// the NSM for an attestation document of its own making.
    public var nsmDevice: String = "/dev/nsm"

    public init(
        programs: Programs,
        runtimeDirectory: String,
        listen: Endpoint,
        workerCount: Int = 2,
        dev: Bool = false,
        workerArguments: [String] = [],
        tlsFrontArguments: [String] = [],
        restartKeyService: Bool = false,
        readinessTimeout: Duration = .seconds(60),
        stopGrace: Duration = .seconds(30),
        minimumRestartDelay: Duration = .milliseconds(100),
        maximumRestartDelay: Duration = .seconds(10),
        egressBridge: EgressBridge? = nil,
        hostControl: Endpoint? = nil,
        operatorKeyPath: String? = nil,
        roles: RoleUsers? = geteuid() == 0 ? RoleUsers() : nil
    ) {
        self.programs = programs
        self.runtimeDirectory = runtimeDirectory
        self.listen = listen
        self.workerCount = workerCount
        self.dev = dev
        self.workerArguments = workerArguments
        self.tlsFrontArguments = tlsFrontArguments
        self.restartKeyService = restartKeyService
        self.readinessTimeout = readinessTimeout
        self.stopGrace = stopGrace
        self.minimumRestartDelay = minimumRestartDelay
        self.maximumRestartDelay = maximumRestartDelay
        self.egressBridge = egressBridge
        self.hostControl = hostControl
        self.operatorKeyPath = operatorKeyPath
        self.roles = roles
    }

    /// A role's private directory in the runtime directory (`RuntimeLayout` sets owner and mode).
    func roleDirectory(_ role: Supervisor.Role) -> String {
        switch role {
        case .keyService: runtimeDirectory + "/key-service"
        case .tlsFront: runtimeDirectory + "/tls-front"
        case .worker: runtimeDirectory + "/workers"
        case .egressBridge: runtimeDirectory + "/egress-bridge"
        }
    }

    public var keyServiceSocket: String { roleDirectory(.keyService) + "/key.sock" }
    public var tlsFrontControlSocket: String { roleDirectory(.tlsFront) + "/control.sock" }
    public var controlSocket: String { runtimeDirectory + "/supervisor.ctl" }
    public var certificatePath: String { runtimeDirectory + "/tls-cert.pem" }
    /// Dev mode only: the simulated NSM's root certificate, for `gatewayctl attest --dev-root`.
    public var devRootPath: String { runtimeDirectory + "/dev-root.pem" }
    /// The egress bridge's `/metrics`, which the supervisor's readiness probe reads: it answers
    /// only after every listener of the bridge is bound.
    public var egressBridgeMetricsSocket: String { roleDirectory(.egressBridge) + "/metrics.sock" }
    func workerSocket(_ name: String) -> String { roleDirectory(.worker) + "/\(name).sock" }
    /// x402 upto sessions and spent payments (`--x402`): in the workers' directory, so every
    /// worker shares it and it outlives rotations and worker restarts.
    public static func journalDirectory(runtime: String) -> String { runtime + "/workers/x402-journal" }
}
