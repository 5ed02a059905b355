#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

/// The runtime directory's layout and permissions: one private subdirectory per role, so each
/// role creates its own sockets where no other role can replace them, and reaches only the
/// sockets it needs.
///
/// With roles enforced (supervisor as root; G = the children's shared group):
///
///     RUNTIME/                 root:G      0710  supervisor.ctl (0600, root only), tls-cert.pem, dev-root.pem
///     RUNTIME/key-service/     ks:G        0710  key.sock (0660): workers and tls-front connect
///     RUNTIME/workers/         worker:G    0710  worker-N.sock: tls-front connects
///     RUNTIME/tls-front/       tls:G       0700  control.sock: only the supervisor (root) connects
///     RUNTIME/egress-bridge/   bridge:G    0700  metrics.sock: only the supervisor connects
///
/// Group members can pass through a 0710 directory but not list it or create in it; everyone
/// outside G is stopped at RUNTIME. Which operations a connected peer may then use is
/// key-service's `PeerPolicy`, by uid. `tls-cert.pem` and `dev-root.pem` are public; they are
/// created here, owned by the role that writes them, so their paths stay where users look.
/// Without roles (the supervisor is not root) every directory is 0700 and the supervisor's own.
enum RuntimeLayout {
    struct Directory {
        let path: String
        let owner: UInt32?
        let mode: mode_t
    }

    static func directories(_ configuration: SupervisorConfiguration) -> [Directory] {
        let roles = configuration.roles
        func entry(_ role: Supervisor.Role, _ mode: mode_t) -> Directory {
            Directory(path: configuration.roleDirectory(role), owner: roles?.uid(for: role), mode: roles == nil ? 0o700 : mode)
        }
        return [
            entry(.keyService, 0o710),
            entry(.worker, 0o710),
            entry(.tlsFront, 0o700),
            entry(.egressBridge, 0o700),
        ]
    }

    /// Creates (or takes over) the runtime directory and the role directories, with the modes
    /// and owners above, and checks every role can reach its directory and run its program.
    static func prepare(_ configuration: SupervisorConfiguration) throws(SupervisorError) {
        try RuntimeDirectory.create(configuration.runtimeDirectory)
        let roles = configuration.roles
        if let roles {
            try own(configuration.runtimeDirectory, uid: 0, gid: roles.group, mode: 0o710)
        }
        for directory in directories(configuration) {
            try makeDirectory(directory.path)
            try own(directory.path, uid: directory.owner ?? getuid(), gid: roles?.group ?? getgid(), mode: directory.mode)
        }
        guard let roles else { return }
        try precreate(configuration.certificatePath, owner: roles.tlsFront, gid: roles.group)
        if configuration.dev { try precreate(configuration.devRootPath, owner: roles.keyService, gid: roles.group) }
        if let source = configuration.operatorKeyPath, let copy = configuration.keyServiceOperatorKeyPath {
            try copyOperatorKey(from: source, to: copy, owner: roles.keyService, gid: roles.group)
        }
        if !configuration.dev { try giveNSM(configuration.nsmDevice, to: roles.keyService) }
        try checkReachable(configuration, roles: roles)
    }

    /// The NSM device becomes key-service's alone (owner, mode 0600). A missing device is left
    /// to key-service, which reports it when it opens the device.
    private static func giveNSM(_ path: String, to uid: UInt32) throws(SupervisorError) {
        var info = stat()
        guard stat(path, &info) == 0 else { return }
        guard chown(path, uid, 0) == 0, chmod(path, 0o600) == 0 else {
            throw .runtimeDirectory("cannot give the NSM device \(path) to key-service (uid \(uid)): \(String(cString: strerror(errno)))")
        }
    }

    private static func makeDirectory(_ path: String) throws(SupervisorError) {
        var info = stat()
        if lstat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else {
                throw .runtimeDirectory("\(path) exists and is not a directory (a symlink is refused too)")
            }
            return
        }
        guard mkdir(path, 0o700) == 0 else { throw .runtimeDirectory("cannot create \(path): \(String(cString: strerror(errno)))") }
    }

    private static func own(_ path: String, uid: UInt32, gid: UInt32, mode: mode_t) throws(SupervisorError) {
        if geteuid() == 0 || uid != getuid() {
            guard lchown(path, uid, gid) == 0 else {
                throw .runtimeDirectory("cannot give \(path) to uid \(uid) gid \(gid): \(String(cString: strerror(errno)))")
            }
        }
        guard chmod(path, mode) == 0 else {
            throw .runtimeDirectory("cannot set mode \(String(mode, radix: 8)) on \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// An empty, world-readable file owned by the role that writes it (it opens it with "w",
    /// which keeps owner and mode). O_NOFOLLOW: a symlink planted at the path is refused.
    private static func precreate(_ path: String, owner: UInt32, gid: UInt32, contents: Data = Data()) throws(SupervisorError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .runtimeDirectory("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fchown(fd, owner, gid) == 0, fchmod(fd, 0o644) == 0 else {
            throw .runtimeDirectory("cannot give \(path) to uid \(owner): \(String(cString: strerror(errno)))")
        }
        let written = contents.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == contents.count else { throw .runtimeDirectory("cannot write \(path): \(String(cString: strerror(errno)))") }
    }

    /// The operator's public key, copied where key-service's user can read it.
    private static func copyOperatorKey(from source: String, to copy: String, owner: UInt32, gid: UInt32) throws(SupervisorError) {
        let contents: Data
        do {
            contents = try Data(contentsOf: URL(fileURLWithPath: source))
        } catch {
            throw .invalidConfiguration("--operator-key \(source): cannot read the file (\(error.localizedDescription))")
        }
        unlink(copy)
        try precreate(copy, owner: owner, gid: gid, contents: contents)
    }

    /// Fails start-up with a plain reason when a role's user could not reach the runtime
    /// directory or run its program (a parent directory of mode 0700 is the usual cause), instead
    /// of a child that dies with "permission denied" and a restart loop.
    private static func checkReachable(_ configuration: SupervisorConfiguration, roles: RoleUsers) throws(SupervisorError) {
        var roleList: [(Supervisor.Role, String, String)] = [
            (.keyService, "key-service", configuration.programs.keyService),
            (.tlsFront, "tls-front", configuration.programs.tlsFront),
            (.worker, "worker", configuration.programs.worker),
        ]
        if configuration.egressBridge != nil {
            roleList.append((.egressBridge, "egress-bridge", configuration.programs.hostProxy))
        }
        for (role, name, program) in roleList {
            let uid = roles.uid(for: role)
            if let problem = Access.problem(reaching: configuration.roleDirectory(role), uid: uid, gid: roles.group, need: S_IXOTH) {
                throw .invalidConfiguration(
                    "\(name) runs as uid \(uid) gid \(roles.group) and cannot reach the runtime directory: \(problem); "
                        + "use a --runtime-dir under a directory every user may traverse (e.g. /run or /tmp)"
                )
            }
            let resolved = URL(fileURLWithPath: program).resolvingSymlinksInPath().path
            if let problem = Access.problem(reaching: resolved, uid: uid, gid: roles.group, need: S_IXOTH) {
                throw .invalidConfiguration("\(name) runs as uid \(uid) gid \(roles.group) and cannot run \(resolved): \(problem)")
            }
        }
    }
}

/// Permission checks on behalf of another user, by the mode bits (root's own access says
/// nothing about what a role's uid may do).
enum Access {
    /// Why `uid`/`gid` could not reach `path` and use it with the `need` permission (given as
    /// the "other" bit: S_IXOTH to traverse or execute, S_IROTH to read); nil when it can.
    static func problem(reaching path: String, uid: UInt32, gid: UInt32, need: mode_t) -> String? {
        var components = path.split(separator: "/").map(String.init)
        var current = ""
        let last = components.popLast()
        for component in [""] + components {
            current = component.isEmpty ? "/" : (current == "/" ? "/" : current + "/") + component
            if let problem = lacks(S_IXOTH, at: current, uid: uid, gid: gid, verb: "traverse") { return problem }
        }
        guard let last else { return nil }
        let full = (current == "/" ? "/" : current + "/") + last
        return lacks(need, at: full, uid: uid, gid: gid, verb: need == S_IXOTH ? "execute or traverse" : "read")
    }

    private static func lacks(_ otherBit: mode_t, at path: String, uid: UInt32, gid: UInt32, verb: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return "\(path): \(String(cString: strerror(errno)))" }
        let bit: mode_t = info.st_uid == uid ? otherBit << 6 : (info.st_gid == gid ? otherBit << 3 : otherBit)
        guard info.st_mode & bit == 0 else { return nil }
        return "it may not \(verb) \(path) (mode \(String(info.st_mode & 0o7777, radix: 8)), owner \(info.st_uid):\(info.st_gid))"
    }
}
