import EnclaveIPC
import NIOCore

// Supervisor control protocol
// ===========================
//
// `supervisor ctl …` and tests talk to a running supervisor over `RUNTIME/supervisor.ctl`
// (Unix socket, mode 0600: only the supervisor's user may steer it), and `host-proxy ctl` over
// the optional host listener (`--control-listen`, a vsock port in the enclave). One command per
// connection: the client writes one line and reads until the supervisor closes. The reply's
// first line is `ok` or `error <reason>`; more lines may follow (`status` lists the children).
//
//   status | metrics | rotate-workers | scale N | restart NAME | drain | shutdown
//
// On the host listener only `status` and `metrics` run as plain lines; the others must arrive
// as `signed COUNTER SIGNATURE COMMAND` (see `SignedControlCommand` and `HostControlGate`).

/// Accepts control connections and runs each command on the supervisor.
struct SupervisorControlServer: Sendable {
    static let maximumLineBytes = 4096
    let listener: Listener<NIOAsyncChannel<ByteBuffer, ByteBuffer>>
    /// Set for the host-facing listener: only what the gate admits runs. Nil for the local socket.
    let gate: HostControlGate?

    static func bind(path: String) async throws -> SupervisorControlServer {
        try await bind(Endpoint.unix(path: path), gate: nil)
    }

    /// Any endpoint: the host-facing listener is a vsock port that `host-proxy ctl` connects to.
    static func bind(_ endpoint: Endpoint, gate: HostControlGate?) async throws -> SupervisorControlServer {
        let listener = try await endpoint.bind { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
        return SupervisorControlServer(listener: listener, gate: gate)
    }

    func serve(_ supervisor: Supervisor) async throws {
        try await listener.channel.executeThenClose { connections in
            try await withThrowingDiscardingTaskGroup { group in
                for try await connection in connections {
                    group.addTask { await handle(connection, supervisor) }
                }
            }
        }
    }

    private func handle(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>, _ supervisor: Supervisor) async {
        try? await connection.executeThenClose { inbound, outbound in
            var line = ByteBuffer()
            for try await var chunk in inbound {
                line.writeBuffer(&chunk)
                if line.readableBytesView.contains(0x0A) || line.readableBytes > Self.maximumLineBytes { break }
            }
            let command = Self.command(from: line)
            let reply: String
            if let gate {
                switch gate.admit(command, teeID: await supervisor.teeID) {
                case .run(let admitted):
                    reply = await Self.execute(admitted, on: supervisor)
                case .refused(let reason, let message):
                    await supervisor.hostCommandRefused(reason)
                    reply = "error refused: " + message
                }
            } else {
                reply = await Self.execute(command, on: supervisor)
            }
            try await outbound.write(ByteBuffer(string: reply + "\n"))
        }
    }

    /// The command line: the bytes before the first LF, without a CR ending it, so a client that
    /// ends lines with CRLF (telnet, `nc -C`) is understood. Cut at the byte, not the Character:
    /// Swift treats "\r\n" as one Character, which splitting on "\n" never matches.
    static func command(from line: ByteBuffer) -> String {
        var bytes = line.readableBytesView.prefix { $0 != 0x0A }
        if bytes.last == 0x0D { bytes = bytes.dropLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func execute(_ command: String, on supervisor: Supervisor) async -> String {
        let words = command.split(whereSeparator: { $0 == " " || $0 == "\r" || $0 == "\t" }).map(String.init)
        do {
            switch (words.first, words.count) {
            case ("status", 1):
                return "ok\n" + (await supervisor.status())
            case ("metrics", 1):
                return "ok\n" + (await supervisor.metricsExposition())
            case ("rotate-workers", 1):
                return "ok " + (try await supervisor.rotateWorkers())
            case ("scale", 2):
                guard let count = Int(words[1]) else { return "error scale: '\(words[1])' is not a number" }
                return "ok " + (try await supervisor.scale(to: count))
            case ("restart", 2):
                return "ok " + (try await supervisor.restart(words[1]))
            case ("drain", 1):
                return "ok " + (try await supervisor.drain())
            case ("shutdown", 1):
                supervisor.shutdown()
                return "ok shutting down"
            default:
                return "error unknown command '\(command)'; expected status, metrics, rotate-workers, scale N, restart NAME, drain or shutdown"
            }
        } catch {
            return "error \(error)"
        }
    }
}

/// The client side of the control protocol, for `supervisor ctl`.
public enum SupervisorControlClient {
    /// Sends `command` and returns the reply; throws when the supervisor answered `error …`.
    /// `timeout` must cover the slowest command (a rotation waits for streams to finish).
    public static func send(_ command: String, to socket: String, timeout: Duration = .seconds(600)) async throws -> String {
        let reply = try await LineExchange.exchange(command + "\n", with: try Endpoint.unix(path: socket), timeout: timeout)
        let trimmed = reply.hasSuffix("\n") ? String(reply.dropLast()) : reply
        if trimmed.hasPrefix("error") {
            throw SupervisorError.invalidCommand(String(trimmed.dropFirst("error".count)).trimmingPrefixSpace())
        }
        guard trimmed.hasPrefix("ok") else {
            throw SupervisorError.invalidCommand("unexpected reply from the supervisor: \(trimmed.prefix(200))")
        }
        return String(trimmed.dropFirst(2)).trimmingPrefixSpace()
    }
}

extension String {
    fileprivate func trimmingPrefixSpace() -> String {
        String(drop { $0 == " " || $0 == "\n" })
    }
}
