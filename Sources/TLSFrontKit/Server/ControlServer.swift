import EnclaveIPC
import Logging
import NIOCore

// tls-front control protocol
// ==========================
//
// One command per connection on a Unix socket (mode 0600, so only the supervisor's user can
// use it): the client writes one line, tls-front answers one line and closes.
//
//   status\n                      → ok listen=<endpoint> certificate-sha256=<hex> workers-ready=<n> workers-total=<n> in-flight=<n>
//   workers <endpoint>,<endpoint>\n → ok workers-ready=<n> workers-total=<n>
//   anything else                 → error <reason>
//
// `workers` makes the list the new member set. It first health-checks the members not yet known
// healthy and refuses a non-empty set none of whose members answers (the old set keeps serving);
// then it switches, with the probed health applied in the same step, and waits, up to the drain
// timeout, until no request is outstanding on the removed ones. When the supervisor sees `ok`,
// the removed workers get no new requests and have finished the old ones, so stopping them
// fails nothing; this is the handshake that makes `rotate-workers` lossless.

/// Serves the control protocol above.
struct ControlServer: Sendable {
    static let maximumLineBytes = 64 * 1024

    let pool: WorkerPool
    let checker: WorkerHealthChecker
    let drainTimeout: Duration
    let status: @Sendable () -> String
    let logger: Logger

    func serve(_ listener: Listener<NIOAsyncChannel<ByteBuffer, ByteBuffer>>) async throws {
        try await listener.channel.executeThenClose { connections in
            try await withThrowingDiscardingTaskGroup { group in
                for try await connection in connections {
                    group.addTask { await handle(connection) }
                }
            }
        }
    }

    private func handle(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var line = ByteBuffer()
                for try await var chunk in inbound {
                    line.writeBuffer(&chunk)
                    if line.readableBytesView.contains(0x0A) { break }
                    guard line.readableBytes <= Self.maximumLineBytes else { break }
                }
                let text = String(buffer: line).split(separator: "\n", maxSplits: 1).first.map(String.init) ?? ""
                let reply = await execute(trimmed(text))
                try await outbound.write(ByteBuffer(string: reply + "\n"))
            }
        } catch {
            logger.debug("control connection failed", metadata: ["error": "\(error)"])
        }
    }

    func execute(_ command: String) async -> String {
        let parts = command.split(separator: " ", maxSplits: 1)
        switch parts.first {
        case "status":
            return "ok " + status()
        case "workers":
            let list = parts.count > 1 ? parts[1].split(separator: ",").map { trimmed($0) } : []
            var endpoints: [Endpoint] = []
            for item in list where !item.isEmpty {
                do {
                    let endpoint = try Endpoint(parsing: item)
                    try WorkerAddress.validate(endpoint)
                    endpoints.append(endpoint)
                } catch {
                    return "error \(error)"
                }
            }
            // Probe first, switch second: the new members carry their health into the switch,
            // so there is no moment in which no member is known healthy (every request would get
            // a 503). A set none of whose members answers is refused, and the old set keeps
            // serving: never route to a worker set that is not ready.
            let unknown = endpoints.filter { !pool.isHealthy($0) }
            let probed = await checker.probe(unknown)
            let healthyCount = endpoints.filter { probed[$0] ?? pool.isHealthy($0) }.count
            if !endpoints.isEmpty, healthyCount == 0 {
                logger.warning("worker set refused: no member answers its health check", metadata: ["workers": "\(endpoints.map(\.description))"])
                return "error none of the new workers answers GET /health; the current set keeps serving"
            }
            pool.replaceMembers(with: endpoints, healthy: probed)
            logger.info("worker set changed", metadata: ["workers": "\(endpoints.map(\.description))"])
            let drained = await waitForRemovedToDrain()
            let readiness = pool.readiness
            guard drained else {
                return "error removed workers still have \(pool.outstandingOnRemoved) requests after \(drainTimeout)"
            }
            return "ok workers-ready=\(readiness.ready) workers-total=\(readiness.total)"
        default:
            return "error unknown command '\(parts.first ?? "")'; expected 'status' or 'workers <endpoint>,…'"
        }
    }

    private func waitForRemovedToDrain() async -> Bool {
        let deadline = ContinuousClock.now + drainTimeout
        while pool.outstandingOnRemoved > 0 {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }
}

/// `text` without leading and trailing spaces, tabs and carriage returns.
private func trimmed(_ text: some StringProtocol) -> String {
    let blank: Set<Character> = [" ", "\t", "\r"]
    var rest = Substring(text)
    while let first = rest.first, blank.contains(first) { rest = rest.dropFirst() }
    while let last = rest.last, blank.contains(last) { rest = rest.dropLast() }
    return String(rest)
}
