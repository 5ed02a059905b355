import ArgumentParser
import EnclaveIPC
import Logging
import TLSFrontKit

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@main
struct TLSFrontCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tls-front",
        abstract: "Terminates TLS inside the enclave, serves /enclave/*, routes the rest to the worker pool."
    )

    @Option(help: "Where to accept HTTPS: tcp://127.0.0.1:8443 (dev) or vsock://4294967295:443 (enclave, any CID).")
    var listen: String

    @Option(name: .customLong("key-service"), help: "The key service, e.g. unix:///run/enclave/key.sock.")
    var keyService: String

    @Option(help: "Comma-separated worker endpoints, e.g. unix:///run/enclave/worker-1.sock,unix:///run/enclave/worker-2.sock.")
    var workers: String = ""

    @Option(help: "Control socket the supervisor uses to change the worker set (unix://…).")
    var control: String?

    @Option(name: .customLong("san"), help: "Subject alternative name for the certificate (repeatable; default localhost and 127.0.0.1).")
    var subjectAlternativeNames: [String] = []

    @Flag(name: .customLong("proxy-protocol"), help: "Expect a PROXY protocol v2 header before TLS (host-proxy sends one).")
    var proxyProtocol = false

    @Option(name: .customLong("request-timeout"), help: "Seconds to wait for a worker's response head (504 after).")
    var requestTimeout: Int = 120

    @Option(name: .customLong("idle-timeout"), help: "Seconds before an idle client connection is closed.")
    var idleTimeout: Int = 60

    @Option(name: .customLong("max-body"), help: "Largest request body in bytes (413 above).")
    var maximumBody: Int = 32 * 1024 * 1024

    @Option(name: .customLong("handshake-timeout"), help: "Seconds a client has to complete the TLS handshake.")
    var handshakeTimeout: Int = 10

    @Option(name: .customLong("request-head-timeout"), help: "Seconds from a request's first byte until its head must be complete.")
    var requestHeadTimeout: Int = 30

    @Option(name: .customLong("queue-timeout"), help: "Seconds a request waits for a ready worker while one is restarting (503 after).")
    var queueTimeout: Int = 10

    @Option(name: .customLong("max-connections"), help: "Open client connections in total; beyond it a connection gets one 503 and is closed.")
    var maximumConnections: Int = 16384

    @Option(name: .customLong("max-connections-per-client"), help: "Open connections per client address (the PROXY header's source behind host-proxy); 0: no per-client cap.")
    var maximumConnectionsPerClient: Int = 1024

    @Option(name: .customLong("max-header-bytes"), help: "Largest request line plus header fields in bytes (431 above).")
    var maximumHeaderBytes: Int = 64 * 1024

    @Option(name: .customLong("certificate-out"), help: "Also write the generated certificate (PEM) here, for curl --cacert in dev.")
    var certificateOutput: String?

    @Option(name: .customLong("metrics-socket"), help: "Serve this process's Prometheus metrics here for the supervisor (unix://…).")
    var metricsSocket: String?

    func run() async throws {
        EventLoopExecutor.install()
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let logger = Logger(label: "tls-front")
        let front: TLSFront
        do {
            let configuration = TLSFrontConfiguration(
                listen: try Endpoint(parsing: listen),
                keyService: try Endpoint(parsing: keyService),
                workers: try workers.split(separator: ",").map { try Endpoint(parsing: String($0)) },
                control: try control.map { try Endpoint(parsing: $0) },
                subjectAlternativeNames: subjectAlternativeNames.isEmpty ? ["localhost", "127.0.0.1"] : subjectAlternativeNames,
                proxyProtocol: proxyProtocol,
                requestTimeout: .seconds(requestTimeout),
                idleTimeout: .seconds(idleTimeout),
                handshakeTimeout: .seconds(handshakeTimeout),
                requestHeadTimeout: .seconds(requestHeadTimeout),
                queueTimeout: .seconds(queueTimeout),
                maximumConnections: maximumConnections,
                maximumConnectionsPerClient: maximumConnectionsPerClient,
                maximumHeaderBytes: maximumHeaderBytes,
                maximumBodyBytes: maximumBody
            )
            front = try TLSFront(configuration: configuration, logger: logger)
        } catch {
            throw ValidationError("\(error)")
        }
        if let certificateOutput {
            try front.certificate.pem.write(toFile: certificateOutput)
        }
        let signals = TerminationSignals { front.shutdown() }
        defer { signals.cancel() }
        try await MetricsSocket.serving(at: metricsSocket) { try await front.run() }
        logger.info("tls-front stopped")
    }
}

extension String {
    fileprivate func write(toFile path: String) throws {
        guard let file = fopen(path, "w") else { throw ValidationError("cannot write \(path): errno \(errno)") }
        defer { fclose(file) }
        guard fputs(self, file) >= 0 else { throw ValidationError("cannot write \(path): errno \(errno)") }
    }
}
