import EnclaveIPC

public struct SupervisorConfiguration: Sendable {
    /// The three programs the supervisor runs. By default they sit next to the supervisor's
    /// own executable (one build, one directory); `--bin-dir` points elsewhere.
    public struct Programs: Sendable, Hashable {
        public var keyService: String
        public var tlsFront: String
        public var worker: String

        public init(keyService: String, tlsFront: String, worker: String) {
            self.keyService = keyService
            self.tlsFront = tlsFront
            self.worker = worker
        }

        public init(directory: String) {
            self.init(
                keyService: directory + "/key-service",
                tlsFront: directory + "/tls-front",
                worker: directory + "/inference-worker"
            )
        }
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
        maximumRestartDelay: Duration = .seconds(10)
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
    }

    public var keyServiceSocket: String { runtimeDirectory + "/key.sock" }
    public var tlsFrontControlSocket: String { runtimeDirectory + "/tls-front.ctl" }
    public var controlSocket: String { runtimeDirectory + "/supervisor.ctl" }
    public var certificatePath: String { runtimeDirectory + "/tls-cert.pem" }
    /// Dev mode only: the simulated NSM's root certificate, for `gatewayctl attest --dev-root`.
    public var devRootPath: String { runtimeDirectory + "/dev-root.pem" }
    func workerSocket(_ name: String) -> String { runtimeDirectory + "/\(name).sock" }
}
