import Foundation
import Testing

/// What the kernel enforces between the appliance's roles when the supervisor runs as root (as
/// in the enclave, and in CI): one uid per role, no capabilities, no_new_privs, a key-service
/// nobody can inspect, and a key-service that answers each uid only its role's operations.
/// As any other user the supervisor runs everything as itself and says so; that is checked too.
@Suite("process isolation", .serialized)
struct IsolationTests {
    static let keyServiceUID: UInt32 = 3801
    static let tlsFrontUID: UInt32 = 3802
    static let workerUID: UInt32 = 3803
    static let group: UInt32 = 3800

    @Test func rolesRunUnderDistinctUnprivilegedUidsAndKeyServiceRefusesOtherRoles() async throws {
        try await ApplianceHarness.run(workers: 2) { appliance in
            let pids = try childPIDs(appliance)
            let keyService = try #require(pids["key-service"])
            let tlsFront = try #require(pids["tls-front"])
            let workers = [try #require(pids["worker-1"]), try #require(pids["worker-2"])]

            guard geteuid() == 0 else {
                #expect(appliance.output.contains { $0.contains("roles are NOT enforced") }, "a non-root supervisor says so")
                for pid in [keyService, tlsFront] + workers { #expect(try ProcStatus(pid).uids == Array(repeating: getuid(), count: 4)) }
                return
            }
            #expect(appliance.output.contains { $0.contains("roles enforced: key-service uid 3801") })

            // `ps`, as the kernel reports it: real, effective, saved and filesystem uid.
            let statuses = try ([keyService, tlsFront] + workers).map(ProcStatus.init)
            #expect(statuses[0].uids == Array(repeating: Self.keyServiceUID, count: 4))
            #expect(statuses[1].uids == Array(repeating: Self.tlsFrontUID, count: 4))
            #expect(statuses[2].uids == Array(repeating: Self.workerUID, count: 4))
            #expect(statuses[3].uids == Array(repeating: Self.workerUID, count: 4))
            for status in statuses {
                #expect(status.gids == Array(repeating: Self.group, count: 4), "\(status.fields)")
                #expect(status.fields["Groups"] == "", "no supplementary groups: \(status.fields)")
                #expect(status.fields["NoNewPrivs"] == "1")
                for capability in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
                    #expect(status.fields[capability] == "0000000000000000", "\(capability) of \(status.fields["Name"] ?? "?")")
                }
            }

            // key-service is not dumpable: the kernel hands its /proc files to root, and neither
            // a worker nor a process of key-service's own uid can read them.
            #expect(try owner(of: "/proc/\(keyService)/environ") == 0)
            #expect(try owner(of: "/proc/\(workers[0])/environ") == Self.workerUID, "a worker stays dumpable, for contrast")
            for uid in [Self.workerUID, Self.keyServiceUID] {
                let peek = try asUser(uid, ["/bin/cat", "/proc/\(keyService)/environ"])
                #expect(peek.status != 0, "uid \(uid) read key-service's environment")
                #expect(peek.stderr.contains("Permission denied"), "\(peek.stderr)")
            }

            // Only the allowlisted environment reached the worker (the harness set
            // XDG_RUNTIME_DIR for the supervisor; it must not leak), with the crash reporter off.
            let environment = try String(contentsOfFile: "/proc/\(workers[0])/environ", encoding: .utf8).split(separator: "\0").map(String.init)
            #expect(environment.contains("SWIFT_BACKTRACE=enable=no"), "\(environment)")
            #expect(!environment.contains { $0.hasPrefix("XDG_RUNTIME_DIR=") }, "\(environment)")
            #expect(environment.contains("HOME=\(appliance.runtimeDirectory)/workers"), "\(environment)")

            // The peer policy, through key-service's own socket, from a client written to the wire
            // contract and run under each uid.
            let socket = appliance.runtimeDirectory + "/key-service/key.sock"
            func call(_ uid: UInt32, _ operation: String, gid: UInt32 = Self.group) throws -> String {
                let result = try asUser(uid, gid: gid, ["/usr/bin/python3", clientScript("key_service_call.py"), socket, operation])
                #expect(result.status == 0, "\(result.stderr)")
                return result.stdout
            }
            for operation in ["attest", "injectSecrets"] {
                let reply = try call(Self.workerUID, operation)
                #expect(reply.contains(#""code": "forbidden""#), "a worker called \(operation): \(reply)")
                #expect(reply.contains("may not call \(operation)"), "\(reply)")
            }
            #expect(try call(Self.workerUID, "health").contains(#""type": "health""#), "every role may read health")
            #expect(try call(Self.workerUID, "publicKey").contains(#""type": "publicKey""#), "a worker may fetch the public key")
            #expect(try call(Self.tlsFrontUID, "attest").contains(#""type": "attest""#), "tls-front may attest")
            #expect(try call(Self.tlsFrontUID, "providerSecrets").contains(#""code": "forbidden""#), "tls-front may not read provider keys")
            // A uid outside the appliance's group does not get past the directory.
            #expect(try call(65534, "health", gid: 65534).contains(#""connect_error": "EACCES""#))
            #expect(
                appliance.output.contains { $0.contains("key-service request refused") && $0.contains("operation=attest") },
                "key-service logs each refusal with its reason"
            )
            #expect(try appliance.curl("/health").stdout.contains(#""tee_id":"0x"#), "the appliance serves on")
        }
    }

    /// `NAME pid=N …` lines of `supervisor ctl status`.
    private func childPIDs(_ appliance: ApplianceHarness) throws -> [String: Int32] {
        let status = try appliance.ctl("status")
        #expect(status.status == 0, "\(status.stderr)")
        var pids: [String: Int32] = [:]
        for line in status.stdout.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard words.count > 1, words[1].hasPrefix("pid="), let pid = Int32(words[1].dropFirst(4)) else { continue }
            pids[String(words[0])] = pid
        }
        return pids
    }

    private func owner(of path: String) throws -> UInt32 {
        var info = stat()
        guard stat(path, &info) == 0 else { throw HarnessError("stat \(path): errno \(errno)") }
        return info.st_uid
    }

    /// Runs `command` as `uid` (and `gid`, no supplementary groups), via util-linux's setpriv.
    private func asUser(_ uid: UInt32, gid: UInt32 = IsolationTests.group, _ command: [String]) throws -> CommandResult {
        try run(
            URL(fileURLWithPath: "/usr/bin/setpriv"),
            ["--reuid=\(uid)", "--regid=\(gid)", "--clear-groups", "--"] + command
        )
    }
}

/// The fields of `/proc/PID/status` (what `ps` reads).
struct ProcStatus {
    let fields: [String: String]

    init(_ pid: Int32) throws {
        let text = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            fields[String(parts[0])] = parts[1].trimmingCharacters(in: .whitespaces)
        }
        self.fields = fields
    }

    /// Real, effective, saved and filesystem uid.
    var uids: [UInt32] { (fields["Uid"] ?? "").split(whereSeparator: \.isWhitespace).compactMap { UInt32($0) } }
    var gids: [UInt32] { (fields["Gid"] ?? "").split(whereSeparator: \.isWhitespace).compactMap { UInt32($0) } }
}
