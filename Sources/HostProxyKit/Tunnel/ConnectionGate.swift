import Synchronization

/// Admits at most `limit` connections at a time. Excess connections are closed at once rather
/// than queued: a queue would hold file descriptors and memory for clients the proxy cannot
/// serve, which is what the limit exists to prevent.
final class ConnectionGate: Sendable {
    let limit: Int
    private let active = Mutex(0)

    init(limit: Int) {
        self.limit = max(limit, 0)
    }

    /// True when the caller may serve a connection; it must then call `leave()` exactly once.
    func tryEnter() -> Bool {
        active.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
    }

    func leave() {
        active.withLock { $0 = max($0 - 1, 0) }
    }

    var count: Int { active.withLock { $0 } }
}
