import Foundation
import NIOCore
import NIOPosix
import Testing

@testable import EnclaveIPC

@Suite("Endpoint bind and connect")
struct EndpointBindTests {
    /// Binds `endpoint` with framing, echoes one frame back on the first connection, and
    /// returns what the client received.
    private func echoOnce(on endpoint: Endpoint, mode: mode_t = 0o600, check: (Endpoint) throws -> Void = { _ in }) async throws -> String {
        let listener = try await endpoint.bind(unixSocketMode: mode) { channel in
            channel.eventLoop.makeCompletedFuture { try Framing.wrap(channel) }
        }
        try check(listener.endpoint)
        return try await listener.channel.executeThenClose { connections in
            try await withThrowingTaskGroup(of: String.self) { group in
                group.addTask {
                    for try await connection in connections {
                        try await connection.executeThenClose { inbound, outbound in
                            for try await frame in inbound { try await outbound.write(frame) }
                        }
                        break
                    }
                    return ""
                }
                group.addTask {
                    let client = try await rawFramedConnection(to: listener.endpoint)
                    return try await client.executeThenClose { inbound, outbound in
                        try await outbound.write(ByteBuffer(string: "hello \(listener.endpoint)"))
                        var iterator = inbound.makeAsyncIterator()
                        let reply = try #require(try await iterator.next())
                        return String(buffer: reply)
                    }
                }
                var reply = ""
                for try await result in group where !result.isEmpty { reply = result }
                return reply
            }
        }
    }

    @Test("tcp on 127.0.0.1 port 0 reports the OS-chosen port and carries frames")
    func tcpLoopback() async throws {
        var bound: Endpoint?
        let reply = try await echoOnce(on: try Endpoint(parsing: "tcp://127.0.0.1:0")) { bound = $0 }
        guard case .tcp(let host, let port)? = bound?.address else {
            Issue.record("expected a tcp endpoint, got \(String(describing: bound))")
            return
        }
        #expect(host == "127.0.0.1")
        #expect(port != 0)
        #expect(reply == "hello tcp://127.0.0.1:\(port)")
    }

    @Test("tcp on [::1] works when the host has IPv6 loopback")
    func tcpIPv6Loopback() async throws {
        let endpoint = try Endpoint(parsing: "tcp://[::1]:0")
        let probe = try? await endpoint.bind { channel in channel.eventLoop.makeSucceededFuture(()) }
        guard let probe else { return }  // no ::1 on this host (IPv6 disabled); IPv4 is covered above
        try await probe.channel.executeThenClose { _ in }
        let reply = try await echoOnce(on: endpoint)
        #expect(reply.hasPrefix("hello tcp://[::1]:"))
    }

    /// umask 0 would leave a plain bind at 0777, umask 077 would narrow 0660 to 0600: the mode
    /// must come out exactly as asked in both cases. Serialized because the umask is per process.
    @Test(
        "unix socket is created with the requested mode, whatever the umask",
        .serialized,
        arguments: [(mode_t(0o600), mode_t(0)), (0o660, 0o077)]
    )
    func unixMode(mode: mode_t, processUmask: mode_t) async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/mode.sock"
            let previous = umask(processUmask)
            defer { umask(previous) }
            let reply = try await echoOnce(on: try Endpoint.unix(path: path), mode: mode) { _ in
                var info = stat()
                #expect(lstat(path, &info) == 0)
                #expect(info.st_mode & S_IFMT == S_IFSOCK)
                #expect(info.st_mode & 0o7777 == mode)
            }
            #expect(reply == "hello unix://\(path)")
        }
    }

    @Test("the socket file is removed when the listener closes")
    func unixCleanupOnClose() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/cleanup.sock"
            let listener = try await Endpoint.unix(path: path).bind { channel in channel.eventLoop.makeSucceededFuture(()) }
            #expect(FileManager.default.fileExists(atPath: path))
            try await listener.channel.executeThenClose { _ in }
            try await waitUntil { !FileManager.default.fileExists(atPath: path) }
        }
    }

    @Test("a stale socket file left by a dead server is replaced")
    func unixStaleSocket() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/stale.sock"
            try makeStaleSocket(at: path)
            var info = stat()
            #expect(lstat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFSOCK)
            let reply = try await echoOnce(on: try Endpoint.unix(path: path))
            #expect(reply == "hello unix://\(path)")
        }
    }

    @Test("a socket another server is accepting on is not stolen")
    func unixLiveSocket() async throws {
        try await withTemporaryDirectory { directory in
            let endpoint = try Endpoint.unix(path: directory + "/live.sock")
            let first = try await endpoint.bind { channel in channel.eventLoop.makeSucceededFuture(()) }
            try await first.channel.executeThenClose { _ in
                _ = await #expect(throws: UnixSocketError.inUse(path: directory + "/live.sock")) {
                    try await endpoint.bind { channel in channel.eventLoop.makeSucceededFuture(()) }
                }
            }
        }
    }

    @Test("a regular file at the socket path is refused, not deleted")
    func unixRegularFile() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/data.sock"
            try Data("keep me".utf8).write(to: URL(fileURLWithPath: path))
            await #expect(throws: UnixSocketError.notASocket(path: path)) {
                try await Endpoint.unix(path: path).bind { channel in channel.eventLoop.makeSucceededFuture(()) }
            }
            #expect(try String(contentsOfFile: path, encoding: .utf8) == "keep me")
        }
    }

    @Test("connecting to a unix path with no server fails with an error")
    func unixConnectRefused() async throws {
        try await withTemporaryDirectory { directory in
            await #expect(throws: (any Error).self) {
                try await rawFramedConnection(to: try Endpoint.unix(path: directory + "/nobody.sock"))
            }
        }
    }

    @Test("vsock endpoints map to NIO's VsockAddress, including the ANY wildcards")
    func vsockAddressConstruction() throws {
        guard case .vsock(let cid, let port) = try Endpoint(parsing: "vsock://4294967295:4294967295").address else {
            Issue.record("not a vsock address")
            return
        }
        let wildcard = VsockAddress(endpointCID: cid, port: port)
        #expect(wildcard.cid == .any)
        #expect(wildcard.port == .any)

        guard case .vsock(let hostCID, let hostPort) = try Endpoint(parsing: "vsock://3:8001").address else {
            Issue.record("not a vsock address")
            return
        }
        let parent = VsockAddress(endpointCID: hostCID, port: hostPort)
        #expect(parent.cid.rawValue == 3)
        #expect(parent.port.rawValue == 8001)
        #expect(parent.description == "[VSOCK]3:8001")
    }

    @Test("vsock connect goes through NIO and fails cleanly where there is no vsock peer")
    func vsockConnectFails() async throws {
        // CID 1 is VMADDR_CID_LOCAL (this machine); nothing listens there, and without the
        // vsock_loopback transport the connect is refused or times out. Either way: an error,
        // not a hang.
        await #expect(throws: (any Error).self) {
            try await Endpoint.vsock(cid: 1, port: 9).connect(timeout: .milliseconds(300)) { channel in
                channel.eventLoop.makeSucceededFuture(())
            }
        }
    }
}

/// Binds a Unix socket at `path` and closes it without unlinking: what a crashed server leaves.
private func makeStaleSocket(at path: String) throws {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EIO) }
    defer { close(fd) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    guard result == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
}

/// Polls `condition` for up to 5 s (for effects NIO performs after a future completes).
func waitUntil(_ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(5)
    while !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("condition not met within 5 s")
            return
        }
        try await Task.sleep(for: .milliseconds(10))
    }
}
