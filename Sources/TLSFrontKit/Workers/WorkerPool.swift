import EnclaveIPC
import Synchronization

/// The workers tls-front routes to, with per-worker outstanding-request counts and health.
///
/// `acquire()` picks the healthy member with the fewest outstanding requests (ties rotate), so
/// a slow stream on one worker steers new requests to the others. Membership changes at run
/// time (`replaceMembers`, driven by the supervisor during rotation): a removed worker gets no
/// new requests but stays tracked until its last outstanding request is released, which is
/// what `outstanding(on:)` lets the supervisor wait for before stopping it.
public final class WorkerPool: Sendable {
    struct Worker {
        let endpoint: Endpoint
        var outstanding = 0
        /// Unknown counts as unhealthy: a worker gets traffic only after a passing check.
        var healthy = false
        var member = true
    }

    private struct State {
        var workers: [Worker] = []
        var nextTieBreak = 0
    }

    private let state: Mutex<State>

    public init(members: [Endpoint]) {
        var initial = State()
        for endpoint in members where !initial.workers.contains(where: { $0.endpoint == endpoint }) {
            initial.workers.append(Worker(endpoint: endpoint))
        }
        state = Mutex(initial)
    }

    /// Reserves the least-loaded healthy member; release it with `release(_:)` exactly once.
    /// `excluding` skips workers a request already failed on (the one retry goes elsewhere).
    public func acquire(excluding excluded: [Endpoint] = []) -> Endpoint? {
        state.withLock { state in
            let candidates = state.workers.indices.filter {
                state.workers[$0].member && state.workers[$0].healthy && !excluded.contains(state.workers[$0].endpoint)
            }
            guard let least = candidates.map({ state.workers[$0].outstanding }).min() else { return nil }
            let tied = candidates.filter { state.workers[$0].outstanding == least }
            let index = tied[state.nextTieBreak % tied.count]
            state.nextTieBreak &+= 1
            state.workers[index].outstanding += 1
            return state.workers[index].endpoint
        }
    }

    public func release(_ endpoint: Endpoint) {
        state.withLock { state in
            guard let index = state.workers.firstIndex(where: { $0.endpoint == endpoint }) else { return }
            state.workers[index].outstanding = max(0, state.workers[index].outstanding - 1)
            if !state.workers[index].member, state.workers[index].outstanding == 0 {
                state.workers.remove(at: index)
            }
        }
    }

    public func isHealthy(_ endpoint: Endpoint) -> Bool {
        state.withLock { $0.workers.first { $0.endpoint == endpoint }?.healthy ?? false }
    }

    public func setHealthy(_ endpoint: Endpoint, _ healthy: Bool) {
        state.withLock { state in
            guard let index = state.workers.firstIndex(where: { $0.endpoint == endpoint }) else { return }
            state.workers[index].healthy = healthy
        }
    }

    /// Makes `endpoints` the member set in one step; returns the endpoints that were not
    /// members before. Re-adding a worker that is still draining makes it a member again.
    ///
    /// `healthy` holds health already established for some endpoints (the control server probes
    /// a new set *before* switching to it): applying it in the same step as the switch is what
    /// keeps a rotation from leaving a moment in which no member is known healthy, when every
    /// request would get a 503.
    @discardableResult
    public func replaceMembers(with endpoints: [Endpoint], healthy: [Endpoint: Bool] = [:]) -> [Endpoint] {
        state.withLock { state in
            var added: [Endpoint] = []
            for index in state.workers.indices {
                state.workers[index].member = endpoints.contains(state.workers[index].endpoint)
            }
            for endpoint in endpoints {
                if let existing = state.workers.first(where: { $0.endpoint == endpoint }), existing.member { continue }
                if !added.contains(endpoint) {
                    added.append(endpoint)
                    state.workers.append(Worker(endpoint: endpoint))
                }
            }
            for index in state.workers.indices {
                if let known = healthy[state.workers[index].endpoint] { state.workers[index].healthy = known }
            }
            state.workers.removeAll { !$0.member && $0.outstanding == 0 }
            return added
        }
    }

    /// Every tracked worker: members, and removed ones still finishing requests.
    public var tracked: [Endpoint] { state.withLock { $0.workers.map(\.endpoint) } }

    public var members: [Endpoint] { state.withLock { $0.workers.filter(\.member).map(\.endpoint) } }

    /// Outstanding requests on workers that are no longer members.
    public var outstandingOnRemoved: Int {
        state.withLock { $0.workers.filter { !$0.member }.reduce(0) { $0 + $1.outstanding } }
    }

    public func outstanding(on endpoint: Endpoint) -> Int {
        state.withLock { $0.workers.first { $0.endpoint == endpoint }?.outstanding ?? 0 }
    }

    /// Healthy members and all members, for `/health` and `/enclave/ready`.
    public var readiness: (ready: Int, total: Int) {
        state.withLock { state in
            let members = state.workers.filter(\.member)
            return (members.filter(\.healthy).count, members.count)
        }
    }
}
