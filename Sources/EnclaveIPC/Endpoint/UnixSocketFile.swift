#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a Unix socket file could not be prepared for binding.
public enum UnixSocketError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Something other than a socket sits at the path; it is never deleted for you.
    case notASocket(path: String)
    /// A server is accepting connections on the path; binding would steal its address.
    case inUse(path: String)
    case systemCall(String, path: String, errno: Int32)

    public var description: String {
        switch self {
        case .notASocket(let path):
            return "\(path) exists and is not a socket; remove it or choose another path"
        case .inUse(let path):
            return "\(path) is in use: another process is accepting connections on it"
        case .systemCall(let call, let path, let code):
            return "\(call)(\(path)) failed: \(String(cString: strerror(code))) (errno \(code))"
        }
    }
}

/// The filesystem side of a listening Unix socket: clearing a stale file before bind, fixing
/// the mode, and removing the file again when the listener closes. `removeStale` is public for
/// servers that bind Unix sockets through another library (the worker's HTTP server).
public enum UnixSocketFile {
    /// Identifies one socket file, so cleanup never deletes a file a newer server put at the path.
    struct Identity: Hashable, Sendable {
        let device: UInt64
        let inode: UInt64
    }

    /// Removes the file at `path` only if it is a socket nobody accepts on (the leftover of a
    /// crashed server). A probe `connect` tells stale from live: a live server answers, a stale
    /// file gives ECONNREFUSED. Regular files, directories and symlinks are refused, never
    /// removed, so a wrong path cannot delete data.
    public static func removeStale(at path: String) throws(UnixSocketError) {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { return }
            throw .systemCall("lstat", path: path, errno: errno)
        }
        guard info.st_mode & S_IFMT == S_IFSOCK else { throw .notASocket(path: path) }
        switch probe(path) {
        case 0, EAGAIN:
            throw .inUse(path: path)
        case ECONNREFUSED:
            guard unlink(path) == 0 || errno == ENOENT else { throw .systemCall("unlink", path: path, errno: errno) }
        case ENOENT:
            return
        case let code:
            throw .systemCall("connect", path: path, errno: code)
        }
    }

    static func setMode(_ mode: mode_t, at path: String) throws(UnixSocketError) {
        guard chmod(path, mode) == 0 else { throw .systemCall("chmod", path: path, errno: errno) }
    }

    static func identity(of path: String) -> Identity? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return Identity(device: UInt64(truncatingIfNeeded: info.st_dev), inode: UInt64(truncatingIfNeeded: info.st_ino))
    }

    /// Unlinks `path` if it is still the socket file described by `identity`.
    static func remove(_ path: String, ifStill identity: Identity) {
        guard self.identity(of: path) == identity else { return }
        unlink(path)
    }

    /// Connects to `path` and returns 0 on success or the `errno` of the failure.
    private static func probe(_ path: String) -> Int32 {
        let fd = socket(AF_UNIX, streamSocketType, 0)
        guard fd >= 0 else { return errno }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return ENAMETOOLONG }
        withUnsafeMutableBytes(of: &address.sun_path) { sunPath in
            sunPath.copyBytes(from: bytes)
        }
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        return result == 0 ? 0 : errno
    }

    /// SOCK_STREAM, close-on-exec where the platform allows it atomically (the supervisor
    /// forks children while other threads may be probing).
    private static var streamSocketType: Int32 {
        #if canImport(Glibc)
        Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        #elseif canImport(Musl)
        SOCK_STREAM | SOCK_CLOEXEC
        #else
        SOCK_STREAM
        #endif
    }
}
