import ArgumentParser
import Attestation
import CProcess
import EnclaveIPC
import GatewayCore
import Foundation
import KeyServiceKit
import Logging

@main
struct KeyServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key-service",
        abstract: "Holds the signing key, OHTTP keys and injected secrets; the only process that talks to the NSM.",
        discussion: """
            Keys are generated at start and never leave this process: callers get public keys, \
            signatures over layouts built here, and attestation documents whose user_data is built \
            here. Peers are authorized by their Unix uid (SO_PEERCRED); by default only this \
            process's own uid is allowed, with every role. The process makes itself non-dumpable \
            at start (no core dumps, no ptrace or /proc/PID/mem reads, even from its own uid).
            """
    )

    @Option(help: "Where to serve the key-service protocol, e.g. unix:///run/enclave/key.sock (mode 0600).")
    var listen: String

    @Flag(help: "Dev mode: simulated NSM signed by a fresh dev CA, provider keys from the environment (OPENAI_API_KEY, …).")
    var dev = false

    @Option(help: "measurements.txt whose PCRs the simulated NSM reports (dev only; default all-zero PCRs, like a debug enclave).")
    var measurements: String?

    @Option(name: .customLong("dev-root-out"), help: "Write the dev CA root certificate (PEM) here, for gatewayctl attest --dev-root (dev only).")
    var devRootOutput: String?

    @Option(name: .customLong("nsm-device"), help: "The NSM device outside dev mode.")
    var nsmDevice: String = NSMDevice.defaultPath

    @Option(name: .customLong("operator-key"), help: "File with the operator's Ed25519 public key (PEM or base64); enables secret injection.")
    var operatorKey: String?

    @Option(
        name: .customLong("peer"),
        help: "Allow a uid some roles, e.g. --peer 1001=worker or --peer 1000=tls-front,supervisor (repeatable; replaces the default)."
    )
    var peers: [String] = []

    @Option(name: .customLong("rsa-backend"), help: "Library that holds the RSA key and signs: openssl (faster here) or boringssl.")
    var rsaBackend: String = SignerBackend.openSSL.rawValue

    @Option(
        name: .customLong("socket-mode"),
        help: "Octal mode of the listening Unix socket; 660 lets the socket's group connect (the supervisor's role layout)."
    )
    var socketMode: String = "600"

    @Option(name: .customLong("metrics-socket"), help: "Serve this process's Prometheus metrics here for the supervisor (unix://…).")
    var metricsSocket: String?

    func validate() throws {
        guard let mode = UInt16(socketMode, radix: 8), mode & ~0o770 == 0 else {
            throw ValidationError("--socket-mode \(socketMode): expected an octal mode without bits for others, e.g. 600 or 660")
        }
        guard SignerBackend(rawValue: rsaBackend) != nil else {
            throw ValidationError("--rsa-backend \(rsaBackend): expected openssl or boringssl")
        }
        if !dev, measurements != nil || devRootOutput != nil {
            throw ValidationError("--measurements and --dev-root-out configure the simulated NSM: pass --dev")
        }
    }

    func run() async throws {
        EventLoopExecutor.install()
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let logger = Logger(label: "key-service")
        // Before any key exists: not dumpable means no core file, and no ptrace or
        // /proc/<pid>/mem access even from a process of the same uid.
        guard gw_set_not_dumpable() == 0 else {
            throw ValidationError("prctl(PR_SET_DUMPABLE, 0) failed (errno \(errno)); refusing to hold keys in a dumpable process")
        }
        let endpoint: Endpoint
        let policy: PeerPolicy
        let keys: KeyService
        do {
            endpoint = try Endpoint(parsing: listen)
            policy = try Self.policy(from: peers)
            var configuration = try makeConfiguration()
            configuration.signer = SignerBackend(rawValue: rsaBackend) ?? .openSSL
            keys = try KeyService(configuration: configuration, logger: logger)
        } catch let error as ValidationError {
            throw error
        } catch {
            throw ValidationError("\(error)")
        }
        logger.info("keys generated", metadata: ["tee_id": "\(keys.teeID)", "tee_enabled": "\(!dev)", "rsa-backend": "\(rsaBackend)"])
        logger.info("peer policy", metadata: ["peers": "\(Self.describe(policy))"])
        let server = try await KeyServiceServer(
            bindingTo: endpoint, handler: keys, policy: policy,
            configuration: .init(unixSocketMode: mode_t(UInt16(socketMode, radix: 8) ?? 0o600)), logger: logger
        )
        let task = Task { [metricsSocket] in try await MetricsSocket.serving(at: metricsSocket) { try await server.run() } }
        let signals = TerminationSignals { task.cancel() }
        defer { signals.cancel() }
        do {
            try await task.value
        } catch is CancellationError {}
        logger.info("key-service stopped")
    }

    private func makeConfiguration() throws -> KeyService.Configuration {
        let operatorKey = try operatorKey.map { path in
            try OperatorKey(parsing: String(decoding: try Self.read(path, what: "--operator-key"), as: UTF8.self))
        }
        guard dev else {
            return KeyService.Configuration(nsm: try NSMDevice(path: nsmDevice), teeEnabled: true, operatorKey: operatorKey)
        }
        let authority = try DevCertificateAuthority()
        if let devRootOutput {
            // Rewritten in place, not atomically: with roles enforced, key-service may write this
            // file (the supervisor made it for key-service's uid) but not its directory.
            try Data(try authority.rootPEM().utf8).write(to: URL(fileURLWithPath: devRootOutput))
        }
        let pcrs = try measurements.map { try Measurements(contentsOf: URL(fileURLWithPath: $0)) }
        let nsm = try pcrs.map { try SimulatedNSM(measurements: $0, authority: authority) } ?? SimulatedNSM(authority: authority)
        return KeyService.Configuration(
            nsm: nsm,
            teeEnabled: false,
            operatorKey: operatorKey,
            initialSecrets: ProviderSecretNames.fromEnvironment(ProcessInfo.processInfo.environment)
        )
    }

    /// `--peer UID=role,role` entries; none means this process's own uid with every role (dev,
    /// and an enclave where every process runs as one user).
    static func policy(from entries: [String]) throws -> PeerPolicy {
        guard !entries.isEmpty else {
            return PeerPolicy(classesByUID: [getuid(): Set(PeerClass.allCases)])
        }
        var classesByUID: [UInt32: Set<PeerClass>] = [:]
        for entry in entries {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let uid = UInt32(parts[0]) else {
                throw ValidationError("--peer \(entry): expected UID=ROLE[,ROLE…], e.g. 1001=worker")
            }
            for name in parts[1].split(separator: ",") {
                guard let role = PeerClass.allCases.first(where: { $0.commandLineName == name }) else {
                    let known = PeerClass.allCases.map(\.commandLineName).joined(separator: ", ")
                    throw ValidationError("--peer \(entry): unknown role '\(name)'; roles are \(known)")
                }
                classesByUID[uid, default: []].insert(role)
            }
        }
        return PeerPolicy(classesByUID: classesByUID)
    }

    /// `uid 3802: tls-front; uid 3803: worker`, for the start-up log.
    static func describe(_ policy: PeerPolicy) -> String {
        policy.classesByUID.sorted { $0.key < $1.key }.map { uid, classes in
            "uid \(uid): " + classes.map(\.commandLineName).sorted().joined(separator: ",")
        }.joined(separator: "; ")
    }

    private static func read(_ path: String, what: String) throws -> Data {
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ValidationError("\(what) \(path): cannot read the file (\(error.localizedDescription))")
        }
    }
}

extension PeerClass {
    /// The role as the command line spells it (`tls-front`), the same as the process names.
    var commandLineName: String {
        switch self {
        case .tlsFront: "tls-front"
        case .worker: "worker"
        case .supervisor: "supervisor"
        }
    }
}
