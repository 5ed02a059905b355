import Foundation

extension Supervisor {
    /// How `name` is started: its program and arguments, the allowlisted environment, and with
    /// roles enforced its uid, the shared group and umask 007 (sockets and files it creates are
    /// for its own uid and the appliance's group only; the directories keep others out).
    func launch(for name: String, role: Role) -> ChildLaunch {
        let (executable, arguments) = arguments(for: name, role: role)
        let roles = configuration.roles
        return ChildLaunch(
            executable: executable,
            arguments: arguments,
            environment: ChildEnvironment.make(
                for: role, dev: configuration.dev, inherited: ProcessInfo.processInfo.environment,
                home: roles == nil ? nil : configuration.roleDirectory(role)
            ),
            identity: roles.map {
                ChildIdentity(uid: $0.uid(for: role), gid: $0.group, capabilities: needsPrivilegedPort(role) ? [ChildIdentity.netBindService] : [])
            },
            umask: roles == nil ? nil : 0o007
        )
    }

    /// Whether `role` listens on a port below 1024 (tls-front on vsock 443 in the enclave, or an
    /// egress bridge configured so): the kernel reserves those, for vsock as for TCP, to
    /// CAP_NET_BIND_SERVICE, the one capability such a child keeps.
    func needsPrivilegedPort(_ role: Role) -> Bool {
        let port: UInt32
        switch role {
        case .tlsFront:
            switch configuration.listen.address {
            case .tcp(_, let tcpPort): port = UInt32(tcpPort)
            case .vsock(_, let vsockPort): port = vsockPort
            case .unix: return false
            }
        case .egressBridge: port = UInt32(configuration.egressBridge?.port ?? 3128)
        case .keyService, .worker: return false
        }
        return port != 0 && port < 1024
    }

    /// key-service's peer table: with roles enforced, each role's uid gets exactly its role and
    /// the supervisor's uid the health probe; without, key-service's default (its own uid, every
    /// role) applies, because every process is the same user anyway.
    var keyServicePeerArguments: [String] {
        guard let roles = configuration.roles else { return [] }
        return [
            "--socket-mode", "660",
            "--peer", "\(roles.tlsFront)=tls-front",
            "--peer", "\(roles.worker)=worker",
            "--peer", "\(geteuid())=supervisor",
        ]
    }

    /// The line the supervisor logs at start, so an operator sees whether the kernel keeps the
    /// roles apart.
    var isolationNotice: String {
        guard let roles = configuration.roles else {
            return "roles are NOT enforced: every child runs as uid \(geteuid()) like the supervisor, so a compromised "
                + "worker could read key-service's memory (start the supervisor as root to give each role its own uid)"
        }
        return "roles enforced: key-service uid \(roles.keyService), tls-front uid \(roles.tlsFront), workers uid \(roles.worker), "
            + "egress-bridge uid \(roles.egressBridge), group \(roles.group); no capabilities, no_new_privs"
    }
}

extension SupervisorConfiguration {
    /// The operator key file key-service reads. With roles enforced it is a copy in key-service's
    /// own directory (made by `RuntimeLayout`), because the operator's file may sit where the
    /// key-service user cannot read (a root-only home directory).
    var keyServiceOperatorKeyPath: String? {
        guard let operatorKeyPath else { return nil }
        return roles == nil ? operatorKeyPath : roleDirectory(.keyService) + "/operator-key.pub"
    }
}
