import EnclaveIPC
import NIOCore
import NIOPosix

/// `host-proxy ctl`: carries one operator command to the supervisor's control channel inside the
/// enclave and returns its answer.
///
/// The relay is deliberately transparent: it writes the command as one `\n`-terminated line and
/// reads the reply until the supervisor closes the connection (its protocol: one command per
/// connection; `status` answers several lines), without interpreting it, so the supervisor alone
/// defines the commands and their answers and the host cannot add meaning to them.
public enum ControlRelay {
    /// Longer answers are cut off with an error rather than buffered without bound.
    public static let maximumReplyBytes = 1 << 20

    /// Sends `command` (which must not contain a line break) and returns the whole reply without
    /// its final line break.
    public static func send(
        _ command: String,
        to endpoint: Endpoint,
        timeout: Duration = .seconds(30)
    ) async throws -> String {
        guard !command.isEmpty, !command.contains(where: { $0 == "\n" || $0 == "\r" }) else {
            throw ControlRelayError.invalidCommand
        }
        let channel = try await endpoint.connect(timeout: min(timeout, .seconds(10))) { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: command + "\n"))
            return try await withThrowingTaskGroup(of: String.self) { group in
                group.addTask {
                    var reply: [UInt8] = []
                    for try await buffer in inbound {
                        reply += buffer.readableBytesView
                        guard reply.count <= maximumReplyBytes else {
                            throw ControlRelayError.replyTooLong(limit: maximumReplyBytes)
                        }
                    }
                    if reply.last == 0x0A {
                        reply.removeLast()
                        return String(decoding: reply, as: UTF8.self)
                    }
                    throw ControlRelayError.closedBeforeReply(received: reply.count)
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    throw ControlRelayError.timedOut(timeout)
                }
                defer { group.cancelAll() }
                guard let reply = try await group.next() else { throw ControlRelayError.closedBeforeReply(received: 0) }
                return reply
            }
        }
    }
}

public enum ControlRelayError: Error, Hashable, Sendable, CustomStringConvertible {
    case invalidCommand
    case replyTooLong(limit: Int)
    case closedBeforeReply(received: Int)
    case timedOut(Duration)

    public var description: String {
        switch self {
        case .invalidCommand:
            return "control command must be one non-empty line"
        case .replyTooLong(let limit):
            return "the supervisor's reply exceeded \(limit) bytes"
        case .closedBeforeReply(let received):
            return "the supervisor closed the control connection after \(received) bytes, before a full reply line"
        case .timedOut(let timeout):
            return "no reply from the supervisor within \(timeout)"
        }
    }
}
