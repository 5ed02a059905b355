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
    /// A connection whose TLS handshake has not completed after this long is closed.
    public var handshakeTimeout: Duration
    /// Once a request's first byte arrives, its head must be complete within this long.
    public var requestHeadTimeout: Duration
    /// How long a request waits for a ready worker when the pool has members but none is
    /// ready (one restarting); 503 after.
    public var queueTimeout: Duration
    /// Open client connections, in total and per client address (the PROXY header's source
    /// behind host-proxy); a connection over either gets one 503 and is closed. A per-client
    /// limit of 0 means only the total applies.
    public var maximumConnections: Int
    public var maximumConnectionsPerClient: Int
    /// The request line and header fields together; 431 above.
    public var maximumHeaderBytes: Int
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
        handshakeTimeout: Duration = .seconds(10),
        requestHeadTimeout: Duration = .seconds(30),
        queueTimeout: Duration = .seconds(10),
        maximumConnections: Int = 16384,
        maximumConnectionsPerClient: Int = 1024,
        maximumHeaderBytes: Int = 64 * 1024,
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
        self.handshakeTimeout = handshakeTimeout
        self.requestHeadTimeout = requestHeadTimeout
        self.queueTimeout = queueTimeout
        self.maximumConnections = maximumConnections
        self.maximumConnectionsPerClient = maximumConnectionsPerClient
        self.maximumHeaderBytes = maximumHeaderBytes
        self.maximumBodyBytes = maximumBodyBytes
        self.healthCheckInterval = healthCheckInterval
        self.drainTimeout = drainTimeout
        self.registrationTimeout = registrationTimeout
        self.version = version
    }
}
