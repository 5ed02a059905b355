import NIOCore
import NIOPosix

/// One request/response exchange on a fresh connection: write `request`, read until the peer
/// closes (or `maximumBytes`), return what arrived. The tls-front and supervisor control
/// protocols (from the supervisor, `supervisor ctl` and `host-proxy ctl`) and the worker health
/// probe (a one-shot `Connection: close` HTTP/1.1 request) are all this shape, so one small
/// client serves them without an HTTP stack.
public enum LineExchange {
    public static let maximumBytes = 1024 * 1024

    public static func exchange(_ request: String, with endpoint: Endpoint, timeout: Duration) async throws -> String {
        let result = try await withThrowingTaskGroup(of: String?.self) { group in
            group.addTask {
                let channel = try await endpoint.connect(timeout: timeout) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
                return try await channel.executeThenClose { inbound, outbound in
                    try await outbound.write(ByteBuffer(string: request))
                    var received = ByteBuffer()
                    for try await var chunk in inbound {
                        received.writeBuffer(&chunk)
                        guard received.readableBytes <= maximumBytes else {
                            throw LineExchangeError.responseTooLarge(endpoint: endpoint, limit: maximumBytes)
                        }
                    }
                    return String(buffer: received)
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard let result else { throw LineExchangeError.timeout(endpoint: endpoint, after: timeout) }
        return result
    }
}

public enum LineExchangeError: Error, CustomStringConvertible {
    case timeout(endpoint: Endpoint, after: Duration)
    case responseTooLarge(endpoint: Endpoint, limit: Int)

    public var description: String {
        switch self {
        case .timeout(let endpoint, let after): return "\(endpoint) did not answer within \(after)"
        case .responseTooLarge(let endpoint, let limit): return "\(endpoint) sent more than \(limit) bytes"
        }
    }
}
