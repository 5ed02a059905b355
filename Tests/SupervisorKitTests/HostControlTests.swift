import Crypto
import EnclaveIPC
import Foundation
import GatewayCore
import Testing

@testable import SupervisorKit

/// The host-facing control listener: `status` for anyone, changes only signed by the operator,
/// once. The fake key-service reports tee_id 0x11…11.
@Suite("host control listener", .serialized)
struct HostControlTests {
    static let teeID = TEEID(digest: Keccak256Digest(hex: String(repeating: "11", count: 32))!)

    private func withHostControl(
        operatorKey: Curve25519.Signing.PrivateKey?,
        _ body: @escaping (SupervisorHarness, Endpoint) async throws -> Void
    ) async throws {
        let directory = "/tmp/hostctl-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let endpoint = try Endpoint.unix(path: directory + "/host.sock")
        let keyPath = directory + "/operator.pub"
        if let operatorKey { try operatorKey.publicKey.pemRepresentation.write(toFile: keyPath, atomically: true, encoding: .utf8) }
        let outcome = try await SupervisorHarness.run(workers: 1, configure: { configuration in
            configuration.hostControl = endpoint
            configuration.operatorKeyPath = operatorKey == nil ? nil : keyPath
        }) { harness, _ in
            try await body(harness, endpoint)
        }
        #expect(outcome == nil)
    }

    private func send(_ line: String, to endpoint: Endpoint) async throws -> String {
        try await LineExchange.exchange(line + "\n", with: endpoint, timeout: .seconds(30))
    }

    @Test func unsignedAndReplayedChangesAreRefusedAndSignedOnesRunOnce() async throws {
        let key = Curve25519.Signing.PrivateKey()
        try await withHostControl(operatorKey: key) { harness, endpoint in
            let status = try await send("status", to: endpoint)
            #expect(status.hasPrefix("ok\nappliance running"), "\(status)")
            #expect(status.contains("tee_id=\(Self.teeID)"), "\(status)")

            for line in ["shutdown", "scale 2", "rotate-workers", "drain", "restart worker-1", "  scale\t2 "] {
                let reply = try await send(line, to: endpoint)
                #expect(reply.hasPrefix("error refused: ") && reply.contains("must be signed by the operator key"), "\(line): \(reply)")
            }
            #expect(harness.lines.contains("[supervisor] host control command refused (unsigned)"))
            #expect(harness.events.filter { $0.hasPrefix("stop ") }.isEmpty, "nothing was stopped")

            let signed = try SignedControlCommand.sign("scale 2", teeID: Self.teeID, counter: 10, key: key)
            #expect(try await send(signed.line, to: endpoint) == "ok workers: worker-1,worker-2\n")
            let replay = try await send(signed.line, to: endpoint)
            #expect(replay.contains("refused: counter 10 is not greater than the last accepted counter 10"), "\(replay)")
            let older = try SignedControlCommand.sign("scale 1", teeID: Self.teeID, counter: 9, key: key)
            #expect(try await send(older.line, to: endpoint).contains("not greater"))

            let forged = SignedControlCommand(command: "shutdown", counter: 11, signature: signed.signature)
            #expect(try await send(forged.line, to: endpoint).contains("does not verify"), "a signature moved onto another command")
            let otherBoot = try SignedControlCommand.sign("shutdown", teeID: TEEID(digest: Keccak256.hash([2])), counter: 12, key: key)
            #expect(try await send(otherBoot.line, to: endpoint).contains("does not verify"), "signed for another tee_id")
            #expect(try await send("signed 13 AAAA shutdown", to: endpoint).contains("refused: signed control command: signature must be"))

            let shutdown = try SignedControlCommand.sign("shutdown", teeID: Self.teeID, counter: 13, key: key)
            #expect(try await send(shutdown.line, to: endpoint) == "ok shutting down\n")
            try await eventually("stopped") { harness.lines.contains("[supervisor] stopped") }
        }
    }

    @Test func withoutAnOperatorKeyTheListenerIsReadOnlyAndTheLocalSocketIsNot() async throws {
        let key = Curve25519.Signing.PrivateKey()
        try await withHostControl(operatorKey: nil) { harness, endpoint in
            #expect(try await send("status", to: endpoint).hasPrefix("ok\n"))
            let unsigned = try await send("scale 2", to: endpoint)
            #expect(unsigned.contains("read-only (the supervisor was started without --operator-key)"), "\(unsigned)")
            let signed = try SignedControlCommand.sign("scale 2", teeID: Self.teeID, counter: 1, key: key)
            #expect(try await send(signed.line, to: endpoint).contains("read-only"))
            #expect(try await harness.control("scale 2") == "workers: worker-1,worker-2", "the local socket is the supervisor user's own")
        }
    }
}

/// The runtime directory as `RuntimeLayout` leaves it.
@Suite("runtime layout", .serialized)
struct RuntimeLayoutTests {
    /// `MODE UID:GID`, e.g. `710 0:3800`.
    private func mode(_ path: String) -> String? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return "\(String(info.st_mode & 0o7777, radix: 8)) \(info.st_uid):\(info.st_gid)"
    }

    @Test func eachRoleOwnsAPrivateDirectoryAndTheChildrenRunAsTheirRoles() async throws {
        let outcome = try await SupervisorHarness.run(workers: 1) { harness, _ in
            let run = harness.directory + "/run"
            guard geteuid() == 0 else {
                #expect(harness.lines.contains { $0.contains("roles are NOT enforced") })
                for directory in ["key-service", "workers", "tls-front", "egress-bridge"] {
                    #expect(mode(run + "/" + directory)?.hasPrefix("700 ") == true)
                }
                return
            }
            let group = RoleUsers.defaultGroup
            #expect(mode(run) == "710 0:\(group)")
            #expect(mode(run + "/key-service") == "710 \(RoleUsers.defaultKeyService):\(group)")
            #expect(mode(run + "/workers") == "710 \(RoleUsers.defaultWorker):\(group)")
            #expect(mode(run + "/tls-front") == "700 \(RoleUsers.defaultTLSFront):\(group)")
            #expect(mode(run + "/egress-bridge") == "700 \(RoleUsers.defaultEgressBridge):\(group)")
            #expect(mode(run + "/supervisor.ctl")?.hasPrefix("600 0:") == true)
            #expect(mode(run + "/tls-cert.pem") == "644 \(RoleUsers.defaultTLSFront):\(group)")
            #expect(mode(run + "/dev-root.pem") == "644 \(RoleUsers.defaultKeyService):\(group)")
            // Sockets are created by the roles themselves, under umask 007.
            #expect(mode(run + "/key-service/key.sock") == "770 \(RoleUsers.defaultKeyService):\(group)")
            #expect(mode(run + "/workers/worker-1.sock") == "770 \(RoleUsers.defaultWorker):\(group)")
            for (name, uid) in [("key-service", RoleUsers.defaultKeyService), ("tls-front", RoleUsers.defaultTLSFront), ("worker-1", RoleUsers.defaultWorker)] {
                let pid = try #require(await harness.supervisor.pid(of: name))
                let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
                #expect(status.contains("Uid:\t\(uid)\t\(uid)\t\(uid)\t\(uid)\n"), "\(name)")
                #expect(status.contains("NoNewPrivs:\t1\n"), "\(name)")
            }
            #expect(harness.events.contains { $0.hasPrefix("start key-service") && $0.contains("--peer 3803=worker") && $0.contains("--socket-mode 660") })
        }
        #expect(outcome == nil)
    }

    @Test func outsideDevModeTheNSMDeviceBelongsToKeyServiceAlone() throws {
        var template = Array("/tmp/sup-nsm-XXXXXX".utf8CString)
        let directory = String(cString: try #require(mkdtemp(&template)))
        defer { try? FileManager.default.removeItem(atPath: directory) }
        chmod(directory, 0o755)
        let device = directory + "/nsm"
        FileManager.default.createFile(atPath: device, contents: nil, attributes: [.posixPermissions: 0o666])
        var configuration = SupervisorConfiguration(
            programs: .init(keyService: "/bin/true", tlsFront: "/bin/true", worker: "/bin/true"),
            runtimeDirectory: directory + "/run", listen: try .tcp(host: "127.0.0.1", port: 0)
        )
        configuration.nsmDevice = device
        try RuntimeLayout.prepare(configuration)
        guard geteuid() == 0 else {
            #expect(mode(device)?.hasPrefix("666 ") == true, "without roles the device is left alone")
            return
        }
        #expect(mode(device) == "600 \(RoleUsers.defaultKeyService):0")
        configuration.dev = true
        chmod(device, 0o666)
        try RuntimeLayout.prepare(configuration)
        #expect(mode(device)?.hasPrefix("666 ") == true, "dev mode uses the simulated NSM and leaves devices alone")
    }

    @Test func aRuntimeDirectoryTheRolesCannotReachIsRefusedWithTheReason() async throws {
        guard geteuid() == 0 else {
            // Without root no identity is switched, so every directory the supervisor can use
            // its children can use too; nothing to refuse.
            #expect(SupervisorConfiguration(programs: .init(directory: "/x"), runtimeDirectory: "/x", listen: try .tcp(host: "127.0.0.1", port: 0)).roles == nil)
            return
        }
        var template = Array("/tmp/sup-private-XXXXXX".utf8CString)
        let hidden = String(cString: try #require(mkdtemp(&template)))
        defer { try? FileManager.default.removeItem(atPath: hidden) }
        let supervisor = Supervisor(
            configuration: SupervisorConfiguration(
                programs: .init(keyService: "/bin/true", tlsFront: "/bin/true", worker: "/bin/true"),
                runtimeDirectory: hidden + "/run", listen: try .tcp(host: "127.0.0.1", port: 0)
            ),
            output: { _ in }
        )
        await #expect {
            try await supervisor.run()
        } throws: { error in
            "\(error)".contains("key-service runs as uid 3801 gid 3800 and cannot reach the runtime directory: it may not traverse \(hidden) (mode 700, owner 0:0)")
        }
    }
}
