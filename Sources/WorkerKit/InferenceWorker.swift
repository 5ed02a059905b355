import EnclaveIPC
import Foundation
import GatewayCore
import Hummingbird
import InferenceAPI
import Logging
import NIOCore
import Payments
import Providers
import Synchronization

/// One inference worker: an HTTP/1.1 server on a Unix socket (tls-front is its only client)
/// serving the OpenAI/Anthropic routes, with every answer signed through key-service.
///
/// Contract with tls-front and the supervisor:
/// - it listens on `configuration.socketPath` and answers `GET /health` with 200 once it has
///   fetched the public key and signed OHTTP configs from key-service (503 before);
/// - on SIGTERM it stops accepting, finishes in-flight requests (streams included), and `run()`
///   returns;
/// - it logs one line per request: method, path, status, duration. Never bodies, never keys.
///
/// The worker is stateless and holds no key: it sends (request hash, output hash) to key-service
/// and attaches the signature it gets back.
public struct InferenceWorker: Sendable {
    public struct Configuration: Sendable {
        public var socketPath: String
        public var keyService: Endpoint
        /// Delay between the built-in local model's tokens (streaming demos and tests).
        public var localTokenDelay: Duration
        /// Larger bodies are refused with 413 (ARCHITECTURE §4: 32 MiB).
        public var maximumBodyBytes: Int
        public var registry: ModelRegistry
        public var upstream: UpstreamConfiguration
        /// Silence after which a stream gets an SSE keep-alive comment, so a client that left
        /// is noticed (and its generation cancelled) even while the provider sends nothing.
        public var streamKeepAlive: Duration
        /// x402 payments; nil (the default) serves every route unpaid, exactly as without them.
        public var payments: Payments?

        /// What a paid worker needs besides the configuration file's contents.
        public struct Payments: Sendable {
            public var configuration: PaymentConfiguration
            /// The upto session journal (`SessionJournal`): a directory every worker shares and
            /// that outlives each of them (the supervisor passes one in its runtime directory).
            public var journalDirectory: String
            public var facilitatorTimeout: Duration

            public init(configuration: PaymentConfiguration, journalDirectory: String, facilitatorTimeout: Duration = .seconds(10)) {
                self.configuration = configuration
                self.journalDirectory = journalDirectory
                self.facilitatorTimeout = facilitatorTimeout
            }
        }

        public init(
            socketPath: String,
            keyService: Endpoint,
            localTokenDelay: Duration = .zero,
            maximumBodyBytes: Int = 32 * 1024 * 1024,
            registry: ModelRegistry = ModelRegistry(),
            upstream: UpstreamConfiguration = UpstreamConfiguration(),
            streamKeepAlive: Duration = .seconds(15),
            payments: Payments? = nil
        ) {
            self.payments = payments
            self.socketPath = socketPath
            self.keyService = keyService
            self.localTokenDelay = localTokenDelay
            self.maximumBodyBytes = maximumBodyBytes
            self.registry = registry
            self.upstream = upstream
            self.streamKeepAlive = streamKeepAlive
        }
    }

    public let configuration: Configuration
    private let logger: Logger

    public init(configuration: Configuration, logger: Logger = Logger(label: "inference-worker")) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Serves until SIGTERM/SIGINT (when `handlingSignals`) or until the task is cancelled.
    /// Tests pass `handlingSignals: false` and cancel.
    public func run(handlingSignals: Bool = true) async throws {
        // Payments are checked before anything starts: a served model without a price refuses the start.
        let journal = try configuration.payments.map { payments in
            try payments.configuration.checkCoverage(of: configuration.registry.modelIDs)
            return try SessionJournal(directory: payments.journalDirectory)
        }
        try UnixSocketFile.removeStale(at: configuration.socketPath)
        let keyService = KeyServiceClient(endpoint: configuration.keyService, logger: logger)
        let http = UpstreamHTTPClient(configuration: configuration.upstream, logger: logger)
        let identity = IdentityCell()
        let endpoint = InferenceEndpoint(
            registry: configuration.registry,
            providers: ProviderRouter(http: http, local: LocalModel(tokenDelay: configuration.localTokenDelay)),
            keyService: keyService,
            secrets: ProviderSecretsCache { () throws(KeyServiceClientError) in try await keyService.providerSecrets() },
            streamKeepAlive: configuration.streamKeepAlive,
            logger: logger
        )
        var routes = WorkerRoutes(endpoint: endpoint, identity: identity, maximumBodyBytes: configuration.maximumBodyBytes, logger: logger)
        var settler: SessionSettler?
        if let payments = configuration.payments, let journal {
            let facilitator = FacilitatorClient(baseURL: payments.configuration.facilitatorURL, http: http, timeout: payments.facilitatorTimeout)
            routes.payments = PaymentGate(configuration: payments.configuration, facilitator: facilitator, journal: journal, logger: logger)
            settler = SessionSettler(
                journal: journal, facilitator: facilitator, idleSeconds: Double(payments.configuration.sessionIdleSeconds), logger: logger)
        }
        let app = Application(
            router: routes.router(),
            configuration: ApplicationConfiguration(address: .unixDomainSocket(path: configuration.socketPath), serverName: nil),
            logger: logger
        )
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await keyService.run() }
                group.addTask { await fetchIdentity(from: keyService, into: identity) }
                if let settler { group.addTask { await settler.run() } }
                if handlingSignals {
                    try await app.runService()
                } else {
                    try await app.run()
                }
                group.cancelAll()
            }
        } catch {
            try? await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    /// Retries until key-service answers (it may still be booting); the client reconnects itself.
    private func fetchIdentity(from keyService: KeyServiceClient, into cell: IdentityCell) async {
        var attempts = 0
        while !Task.isCancelled {
            do {
                let fetched = try await SigningIdentity.fetch(from: keyService)
                cell.set(fetched)
                logger.info("worker ready", metadata: ["tee_id": "\(fetched.teeID)", "socket": "\(configuration.socketPath)"])
                return
            } catch {
                attempts += 1
                let level: Logger.Level = attempts == 1 ? .warning : .debug
                logger.log(level: level, "waiting for key-service", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .milliseconds(min(100 * attempts, 2000)))
            }
        }
    }
}

/// The identity once fetched; `nil` means not ready.
final class IdentityCell: Sendable {
    private let value = Mutex<SigningIdentity?>(nil)

    func set(_ identity: SigningIdentity) { value.withLock { $0 = identity } }
    var current: SigningIdentity? { value.withLock { $0 } }
}
