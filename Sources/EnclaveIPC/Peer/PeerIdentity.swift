#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// The process on the other end of a Unix socket, as the kernel recorded it at `connect` time
/// (`SO_PEERCRED`). It cannot be forged by the peer, unlike anything sent over the socket.
public struct PeerCredentials: Hashable, Sendable, CustomStringConvertible {
    public let pid: Int32
    public let uid: UInt32
    public let gid: UInt32

    public init(pid: Int32, uid: UInt32, gid: UInt32) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
    }

    public var description: String { "pid \(pid) uid \(uid) gid \(gid)" }
}

/// Who is calling, as far as the transport can prove it.
public enum PeerIdentity: Hashable, Sendable, CustomStringConvertible {
    /// A Unix-socket peer with kernel-verified credentials.
    case credentials(PeerCredentials)
    /// A TCP or vsock peer, or a Unix peer whose credentials could not be read; the string says
    /// which. Nothing about the calling process is known.
    case unidentified(String)

    public var description: String {
        switch self {
        case .credentials(let credentials): credentials.description
        case .unidentified(let reason): "unidentified peer (\(reason))"
        }
    }

    /// Identifies the peer of an accepted channel. Must run on the channel's event loop (as
    /// channel initializers do).
    static func of(_ channel: any Channel) -> PeerIdentity {
        guard channel.remoteAddress?.protocol == .unix || channel.localAddress?.protocol == .unix else {
            return .unidentified(channel.remoteAddress.map { "\($0)" } ?? "no remote address")
        }
        do {
            let credentials = try channel.pipeline.syncOperations.withUnsafeTransportIfAvailable(
                of: NIOBSDSocket.Handle.self,
                readCredentials
            )
            guard let credentials else { return .unidentified("channel does not expose its socket") }
            return .credentials(credentials)
        } catch {
            return .unidentified("SO_PEERCRED failed: \(error)")
        }
    }
}

/// Why `SO_PEERCRED` gave no answer.
struct PeerCredentialsError: Error, CustomStringConvertible {
    let reason: String
    var description: String { reason }
}

#if os(Linux) || os(Android)
/// `struct ucred` is hidden behind `_GNU_SOURCE` in the C headers Swift imports, so the three
/// fields are read from their fixed offsets: pid_t, uid_t, gid_t, 4 bytes each on every Linux ABI.
private func readCredentials(_ fd: NIOBSDSocket.Handle) throws -> PeerCredentials {
    let size = 12
    var raw = [UInt8](repeating: 0, count: size)
    var length = socklen_t(size)
    let result = raw.withUnsafeMutableBytes { buffer in
        getsockopt(fd, SOL_SOCKET, SO_PEERCRED, buffer.baseAddress, &length)
    }
    guard result == 0 else { throw PeerCredentialsError(reason: String(cString: strerror(errno))) }
    guard length == socklen_t(size) else {
        throw PeerCredentialsError(reason: "kernel returned \(length) bytes of ucred, expected \(size)")
    }
    return raw.withUnsafeBytes { buffer in
        PeerCredentials(
            pid: buffer.loadUnaligned(fromByteOffset: 0, as: Int32.self),
            uid: buffer.loadUnaligned(fromByteOffset: 4, as: UInt32.self),
            gid: buffer.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
        )
    }
}
#else
private func readCredentials(_ fd: NIOBSDSocket.Handle) throws -> PeerCredentials {
    throw PeerCredentialsError(reason: "SO_PEERCRED is only read on Linux, where enclave processes run")
}
#endif
