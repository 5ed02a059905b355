import EnclaveIPC
import GatewayCore
import Logging
import Synchronization

/// Whether key-service answers, polled a few times a second. When it stops answering, no
/// answer can be signed, so tls-front refuses inference requests at once with a clear 503
/// instead of letting each one reach a worker, run its provider call and fail at signing (a
/// stream would already have sent its 200 head by then).
///
/// Not answering is judged by the connection: with none (key-service exited, or its socket is
/// gone) it is unavailable after one failed poll; with one, only once no poll has been
/// answered for `silenceLimit`. A connected key-service that is slow to answer a poll is busy
/// (a burst of signatures queued ahead of it, as when thousands of streams end together), or
/// tls-front itself is (10,000 clients connecting at once delayed its own poll by seconds):
/// refusing requests then turned a slow moment into thousands of 503s (docs/performance.md).
final class KeyServiceWatch: Sendable {
    private let available = Atomic(true)
    let interval: Duration
    let logger: Logger

    /// How long a connected key-service may leave every poll unanswered before it counts as
    /// not answering.
    let silenceLimit: Duration

    init(interval: Duration = .milliseconds(250), silenceLimit: Duration = .seconds(10), logger: Logger) {
        self.interval = interval
        self.silenceLimit = silenceLimit
        self.logger = logger
    }

    var isAvailable: Bool { available.load(ordering: .relaxed) }

    /// Polls `health` on `endpoint` until cancelled; an answer marks key-service available, a
    /// failure or no answer within three intervals unavailable. It uses a client of its own, with deadlines
    /// as short as the interval: the shared client waits up to its 10 s request timeout for a
    /// connection, which is right for requests and far too slow for this.
    /// `onRecovered` runs each time key-service answers again after it did not, and each time
    /// it answers with another `tee_id` than before: a restart can fall between two polls.
    func run(_ endpoint: Endpoint, onRecovered: @escaping @Sendable () async -> Void) async {
        let keys = KeyServiceClient(
            endpoint: endpoint,
            configuration: .init(
                requestTimeout: interval * 3, connectTimeout: interval * 3,
                minimumReconnectDelay: .milliseconds(20), maximumReconnectDelay: interval
            ),
            logger: logger
        )
        await withDiscardingTaskGroup { group in
            group.addTask { try? await keys.run() }
            await poll(keys, onRecovered: onRecovered)
            group.cancelAll()
        }
    }

    private func poll(_ keys: KeyServiceClient, onRecovered: @Sendable () async -> Void) async {
        var lastTEEID: TEEID?
        var lastAnswer = ContinuousClock.now
        while !Task.isCancelled {
            let health = try? await keys.health()
            if health != nil { lastAnswer = .now }
            let busy = keys.isConnected && isAvailable && ContinuousClock.now - lastAnswer < silenceLimit
            let answers = health != nil || busy
            let was = available.exchange(answers, ordering: .relaxed)
            let restarted = health.map { health in lastTEEID.map { $0 != health.teeID } ?? false } ?? false
            if let health { lastTEEID = health.teeID }
            if restarted {
                logger.warning("key service restarted with new keys", metadata: ["tee-id": "\(lastTEEID.map(\.description) ?? "-")"])
                await onRecovered()
            } else if answers, !was {
                logger.info("key service answers again")
                await onRecovered()
            } else if !answers, was {
                logger.error("key service does not answer; inference requests get 503 until it does")
            }
            try? await Task.sleep(for: interval)
        }
    }
}
