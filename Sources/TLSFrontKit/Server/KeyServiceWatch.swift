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
/// gone) it is unavailable after one failed poll; with one, only after
/// `slowPollsBeforeUnavailable` polls in a row went unanswered. A connected key-service that
/// is slow to answer a poll is busy (a burst of signatures queued ahead of it, as when
/// thousands of streams end together) or tls-front itself is (thousands of handshakes at
/// once): refusing requests then turned a slow second into a burst of 503s.
final class KeyServiceWatch: Sendable {
    /// About 3 s of silence at the default interval (each poll waits up to three intervals).
    static let slowPollsBeforeUnavailable = 3

    private let available = Atomic(true)
    let interval: Duration
    let logger: Logger

    init(interval: Duration = .milliseconds(250), logger: Logger) {
        self.interval = interval
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
        var slowPolls = 0
        while !Task.isCancelled {
            let health = try? await keys.health()
            slowPolls = health == nil && keys.isConnected ? slowPolls + 1 : 0
            let answers = health != nil || (slowPolls > 0 && slowPolls < Self.slowPollsBeforeUnavailable && isAvailable)
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
