import EnclaveIPC
import Logging
import Synchronization

/// Whether key-service answers, polled a few times a second. When it stops answering, no
/// answer can be signed, so tls-front refuses inference requests at once with a clear 503
/// instead of letting each one reach a worker, run its provider call and fail at signing (a
/// stream would already have sent its 200 head by then).
final class KeyServiceWatch: Sendable {
    private let available = Atomic(true)
    let interval: Duration
    let logger: Logger

    init(interval: Duration = .milliseconds(250), logger: Logger) {
        self.interval = interval
        self.logger = logger
    }

    var isAvailable: Bool { available.load(ordering: .relaxed) }

    /// Polls `ready` on `endpoint` until cancelled; any answer (ready or still starting) marks
    /// key-service available, a failure or no answer within three intervals unavailable. It uses a client of its own, with deadlines
    /// as short as the interval: the shared client waits up to its 10 s request timeout for a
    /// connection, which is right for requests and far too slow for this.
    /// `onRecovered` runs each time key-service answers again after it did not.
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
        while !Task.isCancelled {
            let answers = (try? await keys.ready()) != nil
            let was = available.exchange(answers, ordering: .relaxed)
            if was != answers {
                if answers {
                    logger.info("key service answers again")
                    await onRecovered()
                } else {
                    logger.error("key service does not answer; inference requests get 503 until it does")
                }
            }
            try? await Task.sleep(for: interval)
        }
    }
}
