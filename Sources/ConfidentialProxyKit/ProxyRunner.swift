import Foundation
import Hummingbird
import Logging
import NIOCore

/// Runs the proxy in this process: attests the gateway once (a failure is logged with its
/// reason and retried on each request, which gets 502 meanwhile), serves, and on SIGTERM/SIGINT
/// drains: new requests get 503, admitted ones (streams included) have `shutdownTimeout` to
/// finish before the process exits anyway.
public struct ProxyRunner: Sendable {
    public let settings: ProxySettings
    public let dataDirectory: URL
    public let shutdownTimeout: Duration
    public let logger: Logger

    public init(settings: ProxySettings, dataDirectory: URL, shutdownTimeout: Duration, logger: Logger) {
        self.settings = settings
        self.dataDirectory = dataDirectory
        self.shutdownTimeout = shutdownTimeout
        self.logger = logger
    }

    /// Serves until a signal (or `stop`) ends it. `onListening` gets the bound port (useful with
    /// port 0) once the server accepts connections.
    public func run(
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }, until stop: (@Sendable () async -> Void)? = nil,
        exitStatus: (@Sendable () async -> Int32)? = nil
    ) async throws {
        if settings.trust.noAttest {
            logger.warning("--no-attest: attestation is NOT verified. Development only: nothing proves an enclave answers.")
        }
        if settings.isDirect {
            logger.notice("PROXY_URL equals ENCLAVE_URL: sending directly to the gateway, without a relay (the gateway sees your IP address)")
        } else {
            logger.info("sending through the OHTTP relay", metadata: ["relay": "\(VerifiedGateway.relayURL(settings.proxyURL))"])
        }
        let cache = AttestationCache(file: SealedFile(url: dataDirectory.appendingPathComponent("attestation-cache.sealed"), kek: settings.kek))
        for record in cache.load(logger: logger) where record.gateway.lowercased() == settings.enclaveURL.lowercased() {
            logger.info("last verified enclave", metadata: ["tee_id": "\(record.teeID)", "verified_at": "\(record.verifiedAt)"])
        }
        let gateway = try VerifiedGateway(settings: settings, logger: logger, cache: cache)
        // A gateway that does not verify (or is down) does not stop the proxy: every request
        // retries the attestation and, while it fails, answers 502 with the failed check.
        do { try await gateway.attest(reason: "start") } catch {
            logger.error("the gateway did not verify at start; requests get 502 until it does", metadata: ["reason": "\(error)"])
        }
        let drain = DrainState()
        let server = ProxyServer(settings: settings, gateway: gateway, logger: logger, drain: drain)
        let reattest = settings.reattestInterval
        let logger = logger
        let app = Application(
            router: server.router(),
            configuration: ApplicationConfiguration(address: .hostname(settings.host, port: settings.port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.info("confidential-proxy listening", metadata: ["url": "http://\(settings.host):\(port)", "compat": "\(settings.compat.rawValue)"])
                await onListening(port)
            },
            logger: Self.quiet(logger)
        )
        let shutdownTimeout = shutdownTimeout
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.run() }
            group.addTask {
                // Scheduled re-attestation; failures are logged and retried on the next request.
                while !Task.isCancelled {
                    try await Task.sleep(for: reattest)
                    do { try await gateway.attest(reason: "schedule") } catch {
                        logger.error("scheduled re-attestation failed", metadata: ["reason": "\(error)"])
                    }
                }
            }
            group.addTask {
                if let stop { await stop() } else { await Self.waitForSignal() }
                drain.beginDraining()
                logger.info("draining: new requests get 503", metadata: ["in_flight": "\(drain.requestsInFlight)"])
                let deadline = ContinuousClock.now + shutdownTimeout
                while drain.requestsInFlight > 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
                if drain.requestsInFlight > 0 {
                    logger.warning("shutdown timeout: \(drain.requestsInFlight) requests still in flight are cut off")
                }
                // Closing the listener waits for open connections (a client's idle keep-alive, a
                // cut-off stream); the shutdown timeout is the promise, so end the process anyway.
                let status = await exitStatus?() ?? 0
                Task.detached {
                    try? await Task.sleep(for: .seconds(3))
                    logger.notice("open connections did not close after shutdown; exiting")
                    exit(status)
                }
                throw ShutdownRequested()
            }
            do {
                try await group.next()
            } catch is ShutdownRequested {}
            group.cancelAll()
        }
        logger.info("confidential-proxy stopped")
    }

    struct ShutdownRequested: Error {}

    /// Hummingbird's own per-request logs stay at debug and above only when asked for.
    private static func quiet(_ logger: Logger) -> Logger {
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .notice)
        return quiet
    }

    /// SIGTERM or SIGINT.
    static func waitForSignal() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let once = Once()
            for signalNumber in [SIGTERM, SIGINT] {
                signal(signalNumber, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
                source.setEventHandler {
                    if once.claim() { continuation.resume() }
                }
                source.resume()
                Once.keep(source)
            }
        }
    }
}

private final class Once: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []
    private static let sourcesLock = NSLock()

    func claim() -> Bool {
        lock.withLock {
            if done { return false }
            done = true
            return true
        }
    }

    static func keep(_ source: any DispatchSourceSignal) { sourcesLock.withLock { sources.append(source) } }
}
