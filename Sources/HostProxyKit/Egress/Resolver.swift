import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Turns a CONNECT host into addresses. Egress checks every address it gets back against the
/// `AddressPolicy` and connects to an address, never to the name again, so what was checked is
/// what is reached.
///
/// Two implementations: `SystemResolver` (the host's getaddrinfo) and, in tests, a fixed table
/// that makes rebinding cases reproducible without real DNS.
public protocol Resolver: Sendable {
    /// The addresses for `host` in preference order, each carrying `port`. An empty result or
    /// a thrown error both mean "cannot resolve".
    func resolve(host: String, port: UInt16) async throws -> [SocketAddress]
}

/// Why the system resolver failed.
public enum ResolutionError: Error, Hashable, Sendable, CustomStringConvertible {
    case lookupFailed(host: String, code: Int32, message: String)
    case resolverStopped

    public var description: String {
        switch self {
        case .lookupFailed(let host, let code, let message):
            return "getaddrinfo(\(host)) failed: \(message) (code \(code))"
        case .resolverStopped:
            return "the resolver's thread pool is shut down"
        }
    }
}

/// getaddrinfo(3) on NIO's blocking-I/O thread pool, so a slow DNS server never stalls an event
/// loop. Uses the host's resolv.conf and nsswitch, as every other host program does.
public struct SystemResolver: Resolver {
    private let threadPool: NIOThreadPool

    public init(threadPool: NIOThreadPool = .singleton) {
        self.threadPool = threadPool
    }

    public func resolve(host: String, port: UInt16) async throws -> [SocketAddress] {
        do {
            return try await threadPool.runIfActive { try Self.lookUp(host: host, port: port) }
        } catch is NIOThreadPoolError.ThreadPoolInactive {
            throw ResolutionError.resolverStopped
        }
    }

    private static func lookUp(host: String, port: UInt16) throws(ResolutionError) -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
            hints.ai_socktype = SOCK_STREAM
        #endif
        hints.ai_protocol = Int32(IPPROTO_TCP)
        var list: UnsafeMutablePointer<addrinfo>?
        let code = getaddrinfo(host, String(port), &hints, &list)
        guard code == 0 else {
            throw .lookupFailed(host: host, code: code, message: String(cString: gai_strerror(code)))
        }
        defer { freeaddrinfo(list) }
        var addresses: [SocketAddress] = []
        var next = list
        while let info = next?.pointee {
            next = info.ai_next
            guard let raw = info.ai_addr else { continue }
            switch info.ai_family {
            case AF_INET where Int(info.ai_addrlen) >= MemoryLayout<sockaddr_in>.size:
                let address = raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee }
                addresses.append(SocketAddress(address, host: host))
            case AF_INET6 where Int(info.ai_addrlen) >= MemoryLayout<sockaddr_in6>.size:
                let address = raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee }
                addresses.append(SocketAddress(address, host: host))
            default:
                continue
            }
        }
        return addresses
    }
}
