import EnclaveIPC
import Foundation
import Testing

@testable import SupervisorKit

/// How children are started: clean signal state, allowlisted environment, no_new_privs, and as
/// root a role's uid with no groups and no capabilities. CI runs as root, so the identity
/// switch is exercised for real; as another user the tests check what that mode promises.
@Suite("child isolation", .serialized)
struct IsolationTests {
    @Test func aChildStartsWithDefaultSignalsNoNewPrivsAndOnlyTheAllowlistedEnvironment() async throws {
        let root = geteuid() == 0
        let environment = ChildEnvironment.make(
            for: .worker, dev: true,
            inherited: ["PATH": "/usr/bin:/bin", "OPENAI_API_KEY": "sk-must-not-reach-a-worker", "SECRET_TOKEN": "t0ken", "LANG": "C.UTF-8"],
            home: root ? "/tmp" : nil
        )
        let launch = ChildLaunch(
            executable: "/bin/sh",
            arguments: ["-c", "cat /proc/self/status; env; echo END"],
            environment: environment,
            identity: root ? ChildIdentity(uid: RoleUsers.defaultWorker, gid: RoleUsers.defaultGroup) : nil,
            umask: 0o007
        )
        // The supervisor ignores SIGHUP-like signals and Dispatch blocks others; a child must not
        // inherit either. Set both up here, on the thread that spawns (no await in between).
        let previousHUP = signal(SIGHUP, SIG_IGN)
        var block = sigset_t()
        var previousMask = sigset_t()
        sigemptyset(&block)
        sigaddset(&block, SIGUSR1)
        pthread_sigmask(SIG_BLOCK, &block, &previousMask)
        let output = Locked<[String]>([])
        let started = Result { try ChildProcess(name: "probe", launch: launch) { line in output.withLock { $0.append(line) } } }
        pthread_sigmask(SIG_SETMASK, &previousMask, nil)
        signal(SIGHUP, previousHUP)
        let exit = await (try started.get()).waitForExit()
        #expect(exit == .exited(0), "\(output.value)")
        // The pipes drain after the exit is reported.
        try await eventually("output drained") { output.value.contains("[probe] END") }
        let lines = output.value.map { $0.replacingOccurrences(of: "[probe] ", with: "") }
        func field(_ name: String) -> String? {
            lines.first { $0.hasPrefix(name + ":") }.map { String($0.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces) }
        }
        #expect(field("NoNewPrivs") == "1")
        #expect(field("SigBlk") == "0000000000000000", "no blocked signal is inherited")
        #expect(field("SigIgn") == "0000000000000000", "no ignored signal is inherited")
        #expect(lines.contains("SWIFT_BACKTRACE=enable=no"))
        #expect(lines.contains("LANG=C.UTF-8"))
        #expect(!lines.contains { $0.hasPrefix("SECRET_TOKEN=") || $0.hasPrefix("OPENAI_API_KEY=") }, "\(lines)")
        if root {
            let ids = "\(RoleUsers.defaultWorker)\t\(RoleUsers.defaultWorker)\t\(RoleUsers.defaultWorker)\t\(RoleUsers.defaultWorker)"
            #expect(field("Uid") == ids)
            #expect(field("Gid")?.hasPrefix("\(RoleUsers.defaultGroup)\t") == true)
            #expect(field("Groups") == "")
            for capability in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
                #expect(field(capability) == "0000000000000000", "\(capability)")
            }
            #expect(lines.contains("HOME=/tmp"))
        } else {
            #expect(field("Uid")?.hasPrefix("\(getuid())\t") == true)
        }
    }

    /// Runs `python3 -c script port` under `identity` and returns its output lines.
    private func python(_ script: String, _ argument: String, identity: ChildIdentity?) async throws -> [String] {
        let output = Locked<[String]>([])
        let launch = ChildLaunch(
            executable: "/usr/bin/python3", arguments: ["-c", script, argument],
            environment: ["PATH": "/usr/bin:/bin"], identity: identity, umask: nil
        )
        let child = try ChildProcess(name: "py", launch: launch) { line in output.withLock { $0.append(line) } }
        _ = await child.waitForExit()
        try await eventually("output drained") { output.value.contains("[py] END") }
        return output.value.map { $0.replacingOccurrences(of: "[py] ", with: "") }
    }

    @Test func aRoleListeningBelow1024KeepsOnlyNetBindServiceAndCanBind() async throws {
        let bind = """
            import socket, sys
            try:
                socket.socket().bind(("127.0.0.1", int(sys.argv[1])))
                print("bound")
            except OSError as error:
                print("refused", error.errno)
            print([l for l in open("/proc/self/status") if l.startswith(("CapEff", "CapBnd", "CapAmb", "Uid"))])
            print("END")
            """
        let identity = ChildIdentity(uid: RoleUsers.defaultTLSFront, gid: RoleUsers.defaultGroup)
        guard geteuid() == 0 else {
            // Only root can switch users; as anyone else the spawn says why instead of starting.
            await #expect { _ = try await python(bind, "1", identity: identity) } throws: { "\($0)".contains("must run as root") }
            return
        }
        // A free port below 1024 on loopback (root may bind it here; the roles may not).
        let port = try #require((900..<1024).first { port in
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
        })
        let plain = try await python(bind, String(port), identity: identity)
        #expect(plain.contains("refused 13"), "without the capability a role cannot bind \(port): \(plain)")
        var privileged = identity
        privileged.capabilities = [ChildIdentity.netBindService]
        let kept = try await python(bind, String(port), identity: privileged)
        #expect(kept.contains("bound"), "\(kept)")
        let status = kept.joined()
        #expect(status.contains("CapEff:\\t0000000000000400"), "CAP_NET_BIND_SERVICE and nothing else: \(status)")
        #expect(status.contains("CapAmb:\\t0000000000000400"), "\(status)")
        #expect(status.contains("CapBnd:\\t0000000000000400"), "\(status)")
        #expect(status.contains("Uid:\\t3802\\t3802\\t3802\\t3802"), "\(status)")

        let configuration = SupervisorConfiguration(
            programs: .init(directory: "/x"), runtimeDirectory: "/x", listen: .vsock(cid: 4_294_967_295, port: 443))
        #expect(await Supervisor(configuration: configuration, output: { _ in }).needsPrivilegedPort(.tlsFront))
        #expect(!(await Supervisor(configuration: configuration, output: { _ in }).needsPrivilegedPort(.worker)))
        let high = SupervisorConfiguration(programs: .init(directory: "/x"), runtimeDirectory: "/x", listen: try .tcp(host: "127.0.0.1", port: 8443))
        #expect(!(await Supervisor(configuration: high, output: { _ in }).needsPrivilegedPort(.tlsFront)))
    }

    @Test func providerKeysReachOnlyADevKeyServiceAndTheOperatorsBacktraceSettingWins() {
        let inherited = ["OPENAI_API_KEY": "sk-1", "ARK_API_KEY": "ark", "SWIFT_BACKTRACE": "enable=yes", "HOME": "/root"]
        let keyService = ChildEnvironment.make(for: .keyService, dev: true, inherited: inherited, home: nil)
        #expect(keyService["OPENAI_API_KEY"] == "sk-1" && keyService["ARK_API_KEY"] == "ark")
        #expect(keyService["SWIFT_BACKTRACE"] == "enable=yes")
        #expect(keyService["HOME"] == "/root")
        #expect(ChildEnvironment.make(for: .keyService, dev: false, inherited: inherited, home: nil)["OPENAI_API_KEY"] == nil)
        #expect(ChildEnvironment.make(for: .tlsFront, dev: true, inherited: inherited, home: "/run/x")["OPENAI_API_KEY"] == nil)
        #expect(ChildEnvironment.make(for: .tlsFront, dev: true, inherited: inherited, home: "/run/x")["HOME"] == "/run/x")
        #expect(ChildEnvironment.make(for: .worker, dev: true, inherited: [:], home: nil)["PATH"] == ChildEnvironment.defaultPath)
    }

    @Test func aFailedExecSaysWhatAndAsWhom() throws {
        let launch = ChildLaunch(executable: "/nonexistent/program", arguments: [], environment: [:], identity: nil, umask: nil)
        #expect {
            _ = try ChildProcess(name: "ghost", launch: launch) { _ in }
        } throws: { error in
            "\(error)".contains("could not start ghost (/nonexistent/program): exec failed: No such file or directory")
        }
    }

    @Test func roleUsersParseNumbersAndNamesAndRefuseRootSharedUidsAndUnknownRoles() throws {
        var roles = RoleUsers()
        try roles.assign("worker=4100")
        try roles.assign("egress-bridge=nobody")
        #expect(roles.worker == 4100)
        #expect(roles.egressBridge == 65534)
        try roles.assignGroup("4200")
        #expect(roles.group == 4200)
        try roles.validate()
        #expect(throws: SupervisorError.invalidConfiguration("--user tls-front=root: uid 0 is root; every role must run unprivileged")) {
            try roles.assign("tls-front=root")
        }
        #expect { try roles.assign("janitor=5000") } throws: { "\($0)".contains("unknown role 'janitor'") }
        #expect { try roles.assign("worker=no-such-user-here") } throws: { "\($0)".contains("no user named 'no-such-user-here'") }
        #expect { try roles.assign("worker") } throws: { "\($0)".contains("expected ROLE=UID") }
        #expect { try roles.assignGroup("0") } throws: { "\($0)".contains("gid 0") }
        try roles.assign("worker=3801")
        #expect { try roles.validate() } throws: { "\($0)".contains("every role needs its own uid") }
    }
}
