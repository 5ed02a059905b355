import Synchronization

/// Counts open client connections, in total and per client address, so one client (or a flood
/// of them) cannot take every file descriptor. A connection over either cap is still answered,
/// once, with a 503 that says which cap it hit, and then closed: a client that only sees a
/// reset cannot tell an overload from a fault. A per-client maximum of 0 means no per-client
/// cap (the supervisor's `--dev` mode, where every client is a local process on loopback).
final class ConnectionLimiter: Sendable {
    enum Refusal: Sendable, Equatable {
        case total(Int), perClient(Int)

        var message: String {
            switch self {
            case .total(let limit): "tls-front has \(limit) open connections, its limit; retry shortly"
            case .perClient(let limit): "this client has \(limit) open connections, the per-client limit; reuse or close connections"
            }
        }
    }

    private struct State {
        var total = 0
        var perClient: [String: Int] = [:]
    }

    let maximumTotal: Int
    let maximumPerClient: Int
    private let state = Mutex(State())

    init(maximumTotal: Int, maximumPerClient: Int) {
        self.maximumTotal = maximumTotal
        self.maximumPerClient = maximumPerClient
    }

    /// Counts a connection from `client` (nil when unknown); every call, admitted or refused,
    /// must be paired with one `release(client:)`.
    func admit(client: String?) -> Refusal? {
        state.withLock { state in
            state.total += 1
            // Without a per-client cap nothing is counted per client (`release` finds no entry).
            let counted = maximumPerClient > 0 ? client : nil
            if let counted { state.perClient[counted, default: 0] += 1 }
            if state.total > maximumTotal { return .total(maximumTotal) }
            if let counted, state.perClient[counted, default: 0] > maximumPerClient { return .perClient(maximumPerClient) }
            return nil
        }
    }

    func release(client: String?) {
        state.withLock { state in
            state.total -= 1
            guard let client, let count = state.perClient[client] else { return }
            state.perClient[client] = count > 1 ? count - 1 : nil
        }
    }

    var open: Int { state.withLock { $0.total } }
}
