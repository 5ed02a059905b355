#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOPosix

/// A listening socket whose accepted connections arrive as an async sequence, so a server is a
/// `for try await` loop inside `channel.executeThenClose` and stops when its task is cancelled.
public struct Listener<Connection: Sendable>: Sendable {
    /// The address actually bound. For `tcp://…:0` it carries the port the OS chose, so tests
    /// and the supervisor can hand it to clients.
    public let endpoint: Endpoint
    public let channel: NIOAsyncChannel<Connection, Never>
}

extension Endpoint {
    /// The one way to listen on an endpoint of any kind.
    ///
    /// - Unix sockets: a stale socket file (no one accepting on it) is removed first; anything
    ///   else at the path is refused, not deleted. The socket is created with `unixSocketMode`
    ///   already applied (the mode is set on the socket before `bind`, then enforced on the file
    ///   regardless of the umask), so there is no window in which a wider mode is visible. The
    ///   file is removed when the listener closes, unless another server has replaced it.
    /// - TCP: `SO_REUSEADDR` is set so a restarted server can rebind while old connections are
    ///   in TIME_WAIT.
    /// - vsock: bound through NIO's `VsockAddress` support.
    ///
    /// `childChannelInitializer` runs on each accepted channel's event loop; it typically adds
    /// codecs and wraps the channel in a `NIOAsyncChannel`.
    public func bind<Connection: Sendable>(
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        unixSocketMode: mode_t = 0o600,
        childChannelInitializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Connection>
    ) async throws -> Listener<Connection> {
        let bootstrap = ServerBootstrap(group: group).serverChannelOption(.backlog, value: 256)
        switch address {
        case .tcp(let host, let port):
            let channel = try await bootstrap
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: host, port: Int(port), childChannelInitializer: childChannelInitializer)
            let boundPort = channel.channel.localAddress?.port.flatMap(UInt16.init(exactly:)) ?? port
            return Listener(endpoint: Endpoint(validated: .tcp(host: host, port: boundPort)), channel: channel)

        case .unix(let path):
            try UnixSocketFile.removeStale(at: path)
            let channel = try await bootstrap
                .serverChannelInitializer { channel in
                    // Narrow the socket inode's mode before bind so the file appears with it
                    // (Linux creates the file from the socket's mode). Best effort: the chmod
                    // after bind below is what guarantees the final mode on every platform.
                    _ = try? channel.pipeline.syncOperations.withUnsafeTransportIfAvailable(
                        of: NIOBSDSocket.Handle.self
                    ) { fd in fchmod(fd, unixSocketMode) }
                    return channel.eventLoop.makeSucceededVoidFuture()
                }
                .bind(unixDomainSocketPath: path, childChannelInitializer: childChannelInitializer)
            do {
                try UnixSocketFile.setMode(unixSocketMode, at: path)
            } catch {
                try? await channel.channel.close()
                throw error
            }
            if let identity = UnixSocketFile.identity(of: path) {
                channel.channel.closeFuture.whenComplete { _ in UnixSocketFile.remove(path, ifStill: identity) }
            }
            return Listener(endpoint: self, channel: channel)

        case .vsock(let cid, let port):
            let address = VsockAddress(endpointCID: cid, port: port)
            let channel = try await bootstrap.bind(to: address, childChannelInitializer: childChannelInitializer)
            return Listener(endpoint: self, channel: channel)
        }
    }
}
