import EnclaveIPC

public struct TLSFrontConfiguration: Sendable {
    /// `tcp://127.0.0.1:8443` in dev, `vsock://4294967295:443` (any CID) in the enclave.
    public var listen: Endpoint
    public var keyService: Endpoint
    public var workers: [Endpoint]
    /// Where the supervisor changes the worker set at run time (see `ControlServer`).
    public var control: Endpoint?
    public var subjectAlternativeNames: [String]
    /// Expect a PROXY protocol v2 header (from host-proxy) before TLS on every connection.
    public var proxyProtocol: Bool
    /// From sending a request to a worker until its response head arrives (504 after).
    public var requestTimeout: Duration
    /// A client connection with no request in flight is closed after this long.
    public var idleTimeout: Duration
    public var maximumBodyBytes: Int
    public var healthCheckInterval: Duration
    /// How long a graceful stop or a worker-set change waits for in-flight requests.
    public var drainTimeout: Duration
    /// How long to keep trying to register the certificate with the key service before giving up.
    public var registrationTimeout: Duration
    public var version: String

    public init(
        listen: Endpoint,
        keyService: Endpoint,
        workers: [Endpoint],
        control: Endpoint? = nil,
        subjectAlternativeNames: [String] = ["localhost", "127.0.0.1"],
        proxyProtocol: Bool = false,
        requestTimeout: Duration = .seconds(120),
        idleTimeout: Duration = .seconds(60),
        maximumBodyBytes: Int = 32 * 1024 * 1024,
        healthCheckInterval: Duration = .seconds(1),
        drainTimeout: Duration = .seconds(60),
        registrationTimeout: Duration = .seconds(30),
        version: String = "0.1.0"
    ) {
        self.listen = listen
        self.keyService = keyService
        self.workers = workers
        self.control = control
        self.subjectAlternativeNames = subjectAlternativeNames
        self.proxyProtocol = proxyProtocol
        self.requestTimeout = requestTimeout
        self.idleTimeout = idleTimeout
        self.maximumBodyBytes = maximumBodyBytes
        self.healthCheckInterval = healthCheckInterval
        self.drainTimeout = drainTimeout
        self.registrationTimeout = registrationTimeout
        self.version = version
    }
}
