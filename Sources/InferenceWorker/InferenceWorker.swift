import ArgumentParser
import Foundation
import EnclaveIPC
import Logging
import Payments
import Providers
import WorkerKit

@main
struct InferenceWorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inference-worker",
        abstract: "The OpenAI- and Anthropic-compatible inference API, signed through key-service.",
        discussion: """
            Serves HTTP/1.1 on a Unix socket for tls-front. Holds no key: every answer is signed by \
            key-service, and provider API keys are fetched from it per request. On SIGTERM it stops \
            accepting and finishes in-flight requests, streams included.
            """
    )

    @Option(help: "The worker's socket, e.g. unix:///run/enclave/worker-1.sock.")
    var listen: String

    @Option(name: .customLong("key-service"), help: "The key service, e.g. unix:///run/enclave/key.sock.")
    var keyService: String

    @Flag(
        help: ArgumentHelp(
            "Dev mode (set by the supervisor): keys from the dev key-service; upstreams are reached directly "
                + "unless --egress-proxy is given."
        )
    )
    var dev = false

    @Option(name: .customLong("local-token-delay-ms"), help: "Delay between the local model's streamed tokens (demos and tests).")
    var localTokenDelayMilliseconds: Int = 0

    @Option(name: .customLong("egress-proxy"), help: "HTTP CONNECT proxy for upstream calls (in the enclave: 127.0.0.1:3128).")
    var egressProxy: String?

    @Option(
        name: .customLong("upstream-ca-file"),
        help: ArgumentHelp(
            "PEM file of CA certificates trusted for upstream TLS in addition to the system's "
                + "(private OpenAI-compatible endpoints)."
        )
    )
    var upstreamCAFile: String?

    @Option(
        name: .customLong("base-url"),
        help: "Override a provider's API base URL, e.g. openai=http://127.0.0.1:9000/v1 (repeatable; providers: \(BaseURLOverride.names))."
    )
    var baseURLs: [String] = []

    @Option(
        help: "JSON file of extra OpenAI-compatible models: [{\"id\", \"provider\", \"base_url\", \"api_name\"?, \"key_name\"?}, …]."
    )
    var models: String?

    @Option(name: .customLong("max-body"), help: "Largest request body in bytes (413 above).")
    var maximumBody: Int = 32 * 1024 * 1024

    @Option(name: .customLong("metrics-socket"), help: "Serve this process's Prometheus metrics here for the supervisor (unix://…).")
    var metricsSocket: String?

    @Option(name: .customLong("x402"), help: "x402 payment configuration (JSON, docs/payments.md); payments are off without it.")
    var x402: String?

    @Option(name: .customLong("x402-journal"), help: "Directory shared by all workers for upto sessions and spent payments (needed with --x402).")
    var x402Journal: String?

    @Option(name: .customLong("x402-facilitator-timeout-ms"), help: "Timeout of each facilitator call (verify, settle).")
    var facilitatorTimeoutMilliseconds: Int = 10_000

    func validate() throws {
        guard (x402 == nil) == (x402Journal == nil) else { throw ValidationError("--x402 and --x402-journal go together") }
        guard (1...600_000).contains(facilitatorTimeoutMilliseconds) else {
            throw ValidationError("--x402-facilitator-timeout-ms must be 1-600000")
        }
        guard (0...10_000).contains(localTokenDelayMilliseconds) else {
            throw ValidationError("--local-token-delay-ms must be 0-10000, got \(localTokenDelayMilliseconds)")
        }
        guard maximumBody > 0 else { throw ValidationError("--max-body must be positive") }
    }

    func run() async throws {
        EventLoopExecutor.install()
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let configuration: InferenceWorker.Configuration
        do {
            configuration = try makeConfiguration()
        } catch let error as ValidationError {
            throw error
        } catch {
            throw ValidationError("\(error)")
        }
        let worker = InferenceWorker(configuration: configuration)
        try await MetricsSocket.serving(at: metricsSocket) { try await worker.run() }
    }

    private func makeConfiguration() throws -> InferenceWorker.Configuration {
        guard case .unix(let path) = try Endpoint(parsing: listen).address else {
            throw ValidationError("--listen must be a unix:// endpoint (tls-front reaches workers over Unix sockets)")
        }
        var urls = ProviderBaseURLs.production
        for entry in baseURLs { try BaseURLOverride(parsing: entry).apply(to: &urls) }
        var upstream = UpstreamConfiguration()
        if let egressProxy {
            guard let proxy = EgressProxy(egressProxy) else {
                throw ValidationError("--egress-proxy \(egressProxy): expected host:port, e.g. 127.0.0.1:3128")
            }
            upstream.proxy = proxy
        }
        if let upstreamCAFile {
            do {
                upstream.additionalTrustRoots = try UpstreamConfiguration.trustRoots(pemFile: upstreamCAFile)
            } catch {
                throw ValidationError("--upstream-ca-file: \(error)")
            }
        }
        return InferenceWorker.Configuration(
            socketPath: path,
            keyService: try Endpoint(parsing: keyService),
            localTokenDelay: .milliseconds(localTokenDelayMilliseconds),
            maximumBodyBytes: maximumBody,
            registry: ModelRegistry(baseURLs: urls, configured: try configuredModels()),
            upstream: upstream,
            payments: try paymentSettings()
        )
    }
}

extension InferenceWorkerCommand {
    /// `--x402` parsed strictly; a refusal names the file and the reason.
    func paymentSettings() throws -> InferenceWorker.Configuration.Payments? {
        guard let x402, let x402Journal else { return nil }
        guard let data = FileManager.default.contents(atPath: x402) else { throw ValidationError("--x402 \(x402): cannot read the file") }
        do {
            return .init(
                configuration: try PaymentConfiguration(parsing: Array(data)), journalDirectory: x402Journal,
                facilitatorTimeout: .milliseconds(facilitatorTimeoutMilliseconds))
        } catch {
            throw ValidationError("--x402 \(x402): \(error)")
        }
    }

    /// The `--models` file's entries; none without the flag.
    func configuredModels() throws -> [ConfiguredModel] {
        guard let models else { return [] }
        guard let data = FileManager.default.contents(atPath: models) else {
            throw ValidationError("--models \(models): cannot read the file")
        }
        do {
            return try ConfiguredModel.list(parsing: Array(data))
        } catch {
            throw ValidationError("--models \(models): \(error)")
        }
    }
}

/// One `--base-url provider=URL`.
struct BaseURLOverride {
    static let names = "openai, anthropic, google, x-ai, bytedance"

    let provider: String
    let url: String

    init(parsing text: String) throws {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, parts[1].hasPrefix("http://") || parts[1].hasPrefix("https://") else {
            throw ValidationError("--base-url \(text): expected PROVIDER=http(s)://…, e.g. openai=http://127.0.0.1:9000/v1")
        }
        provider = parts[0]
        url = parts[1].hasSuffix("/") ? String(parts[1].dropLast()) : parts[1]
    }

    func apply(to urls: inout ProviderBaseURLs) throws {
        switch provider {
        case "openai": urls.openAI = url
        case "anthropic": urls.anthropic = url
        case "google": urls.google = url
        case "x-ai": urls.xAI = url
        case "bytedance": urls.byteDance = url
        default: throw ValidationError("--base-url: unknown provider '\(provider)'; providers are \(Self.names)")
        }
    }
}
