import NIOCore
import NIOPosix

extension Endpoint {
    /// The one way to connect to an endpoint of any kind. `timeout` bounds the connect itself
    /// (a vsock or TCP peer that never answers), not the life of the connection.
    ///
    /// `channelInitializer` runs on the new channel's event loop before the connect completes;
    /// it typically adds codecs and wraps the channel in a `NIOAsyncChannel`.
    public func connect<Output: Sendable>(
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        timeout: Duration = .seconds(5),
        channelInitializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Output>
    ) async throws -> Output {
        let bootstrap = ClientBootstrap(group: group).connectTimeout(TimeAmount(timeout))
        switch address {
        case .tcp(let host, let port):
            return try await bootstrap.connect(host: host, port: Int(port), channelInitializer: channelInitializer)
        case .unix(let path):
            return try await bootstrap.connect(unixDomainSocketPath: path, channelInitializer: channelInitializer)
        case .vsock(let cid, let port):
            let address = VsockAddress(endpointCID: cid, port: port)
            return try await bootstrap.connect(to: address, channelInitializer: channelInitializer)
        }
    }
}

extension VsockAddress {
    /// NIO's address for the raw values `Endpoint.Address.vsock` carries (`UInt32.max` is
    /// `VMADDR_CID_ANY` / `VMADDR_PORT_ANY`, as in the kernel's `sockaddr_vm`).
    init(endpointCID cid: UInt32, port: UInt32) {
        self.init(cid: ContextID(rawValue: cid), port: Port(rawValue: port))
    }
}
