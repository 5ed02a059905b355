/// The environment a child starts with: an allowlist, never the supervisor's whole environment,
/// so nothing the host or an operator's shell put there (tokens, proxies, library paths) leaks
/// into the enclave processes, and provider keys reach key-service only.
enum ChildEnvironment {
    /// Passed through when the supervisor has them: the search path, locale and time zone, and
    /// the TLS trust store location the workers' HTTPS client may need.
    static let passedThrough = ["PATH", "LANG", "LC_ALL", "TZ", "SSL_CERT_FILE", "SSL_CERT_DIR"]
    static let defaultPath = "/usr/local/bin:/usr/bin:/bin"

    /// - `home`: with roles enforced, the role's private runtime directory becomes `HOME` and
    ///   `TMPDIR`; without, the supervisor's own are passed through.
    /// - Dev-mode provider keys (`*_API_KEY`) go to key-service only: a worker gets keys from
    ///   key-service's `providerSecrets`, never from its environment.
    /// - `SWIFT_BACKTRACE=enable=no` unless the operator set `SWIFT_BACKTRACE` for the
    ///   supervisor: Swift's crash reporter otherwise holds a crashed child (and its listening
    ///   socket) for about 10 s while it symbolicates, delaying the restart.
    static func make(for role: Supervisor.Role, dev: Bool, inherited: [String: String], home: String?) -> [String: String] {
        var environment: [String: String] = [:]
        for name in passedThrough {
            if let value = inherited[name] { environment[name] = value }
        }
        environment["PATH"] = environment["PATH"] ?? defaultPath
        if let home {
            environment["HOME"] = home
            environment["TMPDIR"] = home
        } else {
            environment["HOME"] = inherited["HOME"]
            environment["TMPDIR"] = inherited["TMPDIR"]
        }
        environment["SWIFT_BACKTRACE"] = inherited["SWIFT_BACKTRACE"] ?? "enable=no"
        if dev, role == .keyService {
            for (name, value) in inherited where name.hasSuffix("_API_KEY") { environment[name] = value }
        }
        return environment
    }
}
