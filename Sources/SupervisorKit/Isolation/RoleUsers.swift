#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The unprivileged identities the children run under when the supervisor runs as root (always
/// in the enclave): one uid per role, so the kernel keeps a compromised worker out of
/// key-service's memory (`/proc/<pid>/mem`, ptrace and signals need the same uid) and
/// key-service's peer policy can tell the roles apart by `SO_PEERCRED`.
///
/// The defaults are fixed numbers with no passwd entry, on purpose: the enclave image has no
/// `useradd` and no writable `/etc`, the kernel needs only numbers, and fixed numbers keep the
/// image reproducible. Hosts that prefer named system users create them and pass the names
/// (`--user worker=gw-worker`), which are resolved through the passwd database at start.
///
/// Every child gets the one shared primary group and no supplementary groups: the group is
/// what lets a worker connect to key-service's socket and tls-front to a worker's, while the
/// directories' modes keep everyone else out (see `RuntimeLayout`).
public struct RoleUsers: Sendable, Hashable {
    /// The only uid whose process holds keys; nothing else runs as it.
    public var keyService: UInt32
    public var tlsFront: UInt32
    /// Every worker of the pool: workers are interchangeable and hold nothing the others lack.
    public var worker: UInt32
    public var egressBridge: UInt32
    /// The primary group of every child.
    public var group: UInt32

    /// The documented defaults (docs/operations.md), which an image can rely on without any
    /// passwd entry: group 3800, key-service 3801, tls-front 3802, workers 3803, bridge 3804.
    public static let defaultKeyService: UInt32 = 3801
    public static let defaultTLSFront: UInt32 = 3802
    public static let defaultWorker: UInt32 = 3803
    public static let defaultEgressBridge: UInt32 = 3804
    public static let defaultGroup: UInt32 = 3800

    /// The defaults unless told otherwise; `validate()` checks the uids are distinct.
    public init(
        keyService: UInt32 = RoleUsers.defaultKeyService,
        tlsFront: UInt32 = RoleUsers.defaultTLSFront,
        worker: UInt32 = RoleUsers.defaultWorker,
        egressBridge: UInt32 = RoleUsers.defaultEgressBridge,
        group: UInt32 = RoleUsers.defaultGroup
    ) {
        self.keyService = keyService
        self.tlsFront = tlsFront
        self.worker = worker
        self.egressBridge = egressBridge
        self.group = group
    }

    /// The role names `--user` accepts, as the processes are named.
    public static let roleNames = ["key-service", "tls-front", "worker", "egress-bridge"]

    /// Applies one `--user ROLE=UID|NAME` entry.
    public mutating func assign(_ entry: String) throws(SupervisorError) {
        let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[1].isEmpty else {
            throw .invalidConfiguration("--user \(entry): expected ROLE=UID or ROLE=NAME, e.g. worker=3803")
        }
        let uid = try Self.resolveUser(parts[1])
        guard uid != 0 else {
            throw .invalidConfiguration("--user \(entry): uid 0 is root; every role must run unprivileged")
        }
        switch parts[0] {
        case "key-service": keyService = uid
        case "tls-front": tlsFront = uid
        case "worker": worker = uid
        case "egress-bridge": egressBridge = uid
        default:
            throw .invalidConfiguration("--user \(entry): unknown role '\(parts[0])'; roles are \(Self.roleNames.joined(separator: ", "))")
        }
    }

    /// Applies `--group GID|NAME`.
    public mutating func assignGroup(_ text: String) throws(SupervisorError) {
        if let gid = UInt32(text) {
            group = gid
        } else if let entry = getgrnam(text) {
            group = entry.pointee.gr_gid
        } else {
            throw .invalidConfiguration("--group \(text): no such group (give a number or a name in /etc/group)")
        }
        guard group != 0 else { throw .invalidConfiguration("--group \(text): gid 0 is root's group; pick an unprivileged one") }
    }

    /// The four uids must differ: two roles under one uid could read each other's memory.
    public func validate() throws(SupervisorError) {
        let all = [keyService, tlsFront, worker, egressBridge]
        guard Set(all).count == all.count else {
            throw .invalidConfiguration(
                "--user: every role needs its own uid (key-service \(keyService), tls-front \(tlsFront), "
                    + "worker \(worker), egress-bridge \(egressBridge))"
            )
        }
    }

    func uid(for role: Supervisor.Role) -> UInt32 {
        switch role {
        case .keyService: keyService
        case .tlsFront: tlsFront
        case .worker: worker
        case .egressBridge: egressBridge
        }
    }

    private static func resolveUser(_ text: String) throws(SupervisorError) -> UInt32 {
        if let uid = UInt32(text) { return uid }
        guard let entry = getpwnam(text) else {
            throw .invalidConfiguration("--user: no user named '\(text)' (give a number, or create the user first)")
        }
        return entry.pointee.pw_uid
    }
}
