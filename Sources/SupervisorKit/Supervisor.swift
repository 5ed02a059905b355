import CProcess
import EnclaveIPC
import GatewayCore
import Foundation
import Logging

/// What the supervisor reports once the appliance serves traffic.
public struct ApplianceReady: Sendable, Hashable {
    /// tls-front's bound endpoint (the OS-chosen port when the configuration asked for 0).
    public let listen: Endpoint
    public let certificateSHA256: String
    public let certificatePath: String
    public let runtimeDirectory: String
    public let keyServicePID: Int32
    /// Dev mode: the simulated NSM's root certificate (PEM), which only `--dev-root` trusts.
    public let devRootPath: String?
}

/// The appliance's process tree (ARCHITECTURE §2, §3): key-service first, then tls-front and
/// the workers; crashed children restarted with exponential backoff; rotation, scaling and a
/// graceful stop in the order that loses no request (tls-front, then workers, key-service last).
///
/// Children are told about each other only through command-line endpoints in the runtime
/// directory; tls-front's worker set is changed through its control socket, whose `ok` reply
/// means the removed workers are idle (see TLSFrontKit's `ControlServer`).
public actor Supervisor {
    enum Role: Sendable, Hashable {
        case keyService, tlsFront, worker
        /// `host-proxy bridge`, the workers' only way out (`SupervisorConfiguration.EgressBridge`):
        /// started after key-service and before tls-front and the workers, stopped after them.
        case egressBridge
    }

    /// The egress bridge's child name, in logs, `status` and `restart NAME`.
    static let egressBridgeName = "egress-bridge"

    struct Managed {
        let role: Role
        var process: ChildProcess?
        var ready = false
        var restarts = 0
        /// Crashes since the child last became ready; drives the backoff.
        var consecutiveFailures = 0
        /// Set while the supervisor itself stops this child, so its exit is not a crash.
        var stopping = false
        /// Set while `start` waits for readiness: an exit then is `start`'s to report.
        var starting = false
    }

    public let configuration: SupervisorConfiguration
    let output: @Sendable (String) -> Void
    private let logger: Logger
    var children: [String: Managed] = [:]
    /// The workers tls-front routes to, in start order.
    private var activeWorkers: [String] = []
    private var nextWorkerNumber = 1
    private var stopping = false
    private var busy = false
    private var fatalReason: String?
    private var ready: ApplianceReady?
    /// key-service's `tee_id`, read after each (re)start; signed host commands are bound to it.
    private(set) var teeID: TEEID?
    let metrics = SupervisorMetrics()
    private nonisolated let stopSignal: AsyncStream<Void>
    private nonisolated let stopContinuation: AsyncStream<Void>.Continuation

    /// `output` receives the children's tagged log lines and the supervisor's own notices.
    public init(configuration: SupervisorConfiguration, output: @escaping @Sendable (String) -> Void, logger: Logger = Logger(label: "supervisor")) {
        self.configuration = configuration
        self.output = output
        self.logger = logger
        (stopSignal, stopContinuation) = AsyncStream<Void>.makeStream()
    }

    /// Starts a graceful stop; `run()` returns when every child has exited.
    public nonisolated func shutdown() {
        stopContinuation.finish()
    }

    // MARK: - Run

    /// Brings the appliance up, calls `onReady`, serves the control socket, and returns after
    /// a graceful stop. Throws when start-up fails (after stopping what had started) or when
    /// the appliance was stopped because key-service died.
    public func run(onReady: @Sendable (ApplianceReady) async -> Void = { _ in }) async throws {
        bringLoopbackUp()
        // Before any child starts: they inherit the limit (see FileDescriptorLimit).
        output("[supervisor] " + FileDescriptorLimit.raise().description)
        try checkPrograms()
        try configuration.roles?.validate()
        try RuntimeLayout.prepare(configuration)
        output("[supervisor] " + isolationNotice)
        var controls = [try await SupervisorControlServer.bind(path: configuration.controlSocket)]
        if let hostControl = configuration.hostControl {
            controls.append(try await SupervisorControlServer.bind(hostControl, gate: HostControlGate(operatorKey: try loadOperatorKey())))
        }
        try await withThrowingDiscardingTaskGroup { group in
            for control in controls {
                group.addTask {
                    // Cancelled below once the appliance has stopped; that is the normal end,
                    // not a failure, and must not turn a graceful stop into a thrown error.
                    do {
                        try await control.serve(self)
                    } catch where Task.isCancelled {}
                }
            }
            do {
                let ready = try await startAppliance()
                self.ready = ready
                await onReady(ready)
                for await _ in stopSignal {}
            } catch {
                output("[supervisor] start-up failed: \(error)")
                fatalReason = fatalReason ?? "\(error)"
            }
            await stopAppliance()
            group.cancelAll()
        }
        if let fatalReason { throw SupervisorError.applianceStopped(fatalReason) }
    }

    /// Boot step 1 (ARCHITECTURE §3): an enclave starts with `lo` down, and the egress bridge,
    /// tls-front in dev and any loopback TCP between the processes need it up. Already up (any
    /// ordinary machine) is left alone; a failure is reported, not fatal, because an appliance
    /// that talks only over Unix sockets and vsock still works.
    private func bringLoopbackUp() {
        switch gw_loopback_up() {
        case 1: output("[supervisor] brought the loopback interface up")
        case 0: break
        default:
            output("[supervisor] warning: could not bring the loopback interface up (\(String(cString: strerror(errno)))); the egress bridge on 127.0.0.1 needs it")
        }
    }

    private func checkPrograms() throws(SupervisorError) {
        let programs = configuration.programs
        var required = [("key-service", programs.keyService), ("tls-front", programs.tlsFront), ("inference-worker", programs.worker)]
        if configuration.egressBridge != nil { required.append(("host-proxy", programs.hostProxy)) }
        for (name, path) in required {
            guard FileManager.default.isExecutableFile(atPath: path) else { throw .missingExecutable(name: name, path: path) }
        }
    }

    private func startAppliance() async throws -> ApplianceReady {
        try await start("key-service", role: .keyService)
        if configuration.egressBridge != nil { try await start(Self.egressBridgeName, role: .egressBridge) }
        let workers = (0..<configuration.workerCount).map { _ in allocateWorkerName() }
        activeWorkers = workers
        try await start("tls-front", role: .tlsFront)
        try await startWorkers(workers)
        try await sendWorkerSet()
        let status = try await tlsFrontStatus()
        guard let listenText = status["listen"], let listen = try? Endpoint(parsing: listenText),
              let fingerprint = status["certificate-sha256"]
        else { throw SupervisorError.tlsFrontRefused(command: "status", reply: status.description) }
        let keyServicePID = children["key-service"]?.process?.pid ?? -1
        output("[supervisor] appliance ready: \(activeWorkers.count) workers behind \(listen)")
        return ApplianceReady(
            listen: listen, certificateSHA256: fingerprint, certificatePath: configuration.certificatePath,
            runtimeDirectory: configuration.runtimeDirectory, keyServicePID: keyServicePID,
            devRootPath: configuration.dev ? configuration.devRootPath : nil
        )
    }

    /// tls-front first (it stops accepting and drains), then the workers, key-service last.
    private func stopAppliance() async {
        stopping = true
        let bridge = configuration.egressBridge != nil ? "\(Self.egressBridgeName), then " : ""
        output("[supervisor] stopping: tls-front, then workers, then \(bridge)key-service")
        await stop("tls-front")
        await withTaskGroup(of: Void.self) { group in
            for name in children.keys where children[name]?.role == .worker {
                group.addTask { await self.stop(name) }
            }
        }
        // Workers may still be finishing upstream calls through the bridge until they exit.
        await stop(Self.egressBridgeName)
        await stop("key-service")
        output("[supervisor] stopped")
    }

    // MARK: - Children

    private func allocateWorkerName() -> String {
        defer { nextWorkerNumber += 1 }
        return "worker-\(nextWorkerNumber)"
    }

    func arguments(for name: String, role: Role) -> (String, [String]) {
        let keyService = "unix://" + configuration.keyServiceSocket
        let dev = configuration.dev ? ["--dev"] : []
        switch role {
        case .keyService:
            let devRoot = configuration.dev ? ["--dev-root-out", configuration.devRootPath] : []
            let operatorKey = configuration.keyServiceOperatorKeyPath.map { ["--operator-key", $0] } ?? []
            return (
                configuration.programs.keyService,
                ["--listen", keyService] + dev + devRoot + operatorKey + keyServicePeerArguments + metricsArguments(name, role)
            )
        case .tlsFront:
            let workers = activeWorkers.map { "unix://" + configuration.workerSocket($0) }.joined(separator: ",")
            // A restart binds where the appliance already serves: with port 0 the first start's
            // OS-chosen port, not a new one that clients and `status` do not know.
            let listen = ready?.listen ?? configuration.listen
            // In dev every client is a local process on loopback, one address for all: a
            // per-address cap would stop a load test at 1,024 streams. The total cap remains.
            let perClient = configuration.dev ? ["--max-connections-per-client", "0"] : []
            return (
                configuration.programs.tlsFront,
                [
                    "--listen", listen.description, "--key-service", keyService, "--workers", workers,
                    "--control", "unix://" + configuration.tlsFrontControlSocket,
                    "--certificate-out", configuration.certificatePath,
                ] + perClient + metricsArguments(name, role) + configuration.tlsFrontArguments
            )
        case .worker:
            let egress = configuration.egressBridge.map { ["--egress-proxy", $0.hostAndPort] } ?? []
            return (
                configuration.programs.worker,
                ["--listen", "unix://" + configuration.workerSocket(name), "--key-service", keyService] + dev + egress
                    + metricsArguments(name, role) + configuration.workerArguments
            )
        case .egressBridge:
            guard let bridge = configuration.egressBridge else { preconditionFailure("egress bridge started without configuration") }
            return (
                configuration.programs.hostProxy,
                [
                    "bridge", "--listen", "tcp://" + bridge.hostAndPort, "--upstream", bridge.upstream.description,
                    "--metrics", "unix://" + configuration.egressBridgeMetricsSocket,
                ]
            )
        }
    }

    private func probe(for name: String, role: Role) throws -> ReadinessProbe {
        switch role {
        case .keyService: return .keyService(try Endpoint.unix(path: configuration.keyServiceSocket))
        case .tlsFront: return .tlsFrontControl(try Endpoint.unix(path: configuration.tlsFrontControlSocket))
        case .worker: return .httpHealth(try Endpoint.unix(path: configuration.workerSocket(name)))
        case .egressBridge: return .hostProxyMetrics(try Endpoint.unix(path: configuration.egressBridgeMetricsSocket))
        }
    }

    /// Spawns `name` and waits until its readiness probe passes. On failure the process is
    /// gone (exited, or stopped here) and the entry stays, so a restart loop can try again.
    private func start(_ name: String, role: Role) async throws {
        let process = try ChildProcess(name: name, launch: launch(for: name, role: role), output: output)
        var managed = children[name] ?? Managed(role: role)
        managed.process = process
        managed.ready = false
        managed.stopping = false
        managed.starting = true
        children[name] = managed
        output("[supervisor] started \(name) (pid \(process.pid))")
        Task { await self.childExited(name, pid: process.pid, exit: await process.waitForExit()) }

        let deadline = ContinuousClock.now + configuration.readinessTimeout
        let isReady = await (try probe(for: name, role: role)).wait(until: deadline) { !process.hasExited }
        guard children[name]?.process?.pid == process.pid else {
            throw SupervisorError.childExited(name: name, status: "was stopped while starting")
        }
        children[name]?.starting = false
        guard isReady else {
            let failure: SupervisorError
            if process.hasExited {
                failure = .childExited(name: name, status: (await process.waitForExit()).description)
            } else {
                children[name]?.stopping = true
                _ = await process.stop(grace: configuration.stopGrace)
                failure = .notReady(name: name, after: configuration.readinessTimeout, detail: "its readiness probe never passed")
            }
            if children[name]?.process?.pid == process.pid {
                children[name]?.process = nil
                children[name]?.stopping = false
            }
            throw failure
        }
        children[name]?.ready = true
        children[name]?.consecutiveFailures = 0
        output("[supervisor] \(name) ready")
        if role == .keyService { await refreshTeeID() }
    }

    private func startWorkers(_ names: [String]) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for name in names {
                group.addTask { try await self.start(name, role: .worker) }
            }
            try await group.waitForAll()
        }
    }

    /// Stops `name` (SIGTERM, SIGKILL after the grace period) and forgets it.
    private func stop(_ name: String) async {
        guard let process = children[name]?.process else {
            children[name] = nil
            return
        }
        children[name]?.stopping = true
        let exit = await process.stop(grace: configuration.stopGrace)
        output("[supervisor] \(name) stopped (\(exit))")
        if children[name]?.process?.pid == process.pid { children[name] = nil }
    }

    private func childExited(_ name: String, pid: Int32, exit: ChildExit) async {
        guard let managed = children[name], managed.process?.pid == pid, !managed.stopping, !managed.starting, !stopping
        else { return }
        children[name]?.process = nil
        children[name]?.ready = false
        if managed.role == .keyService, !configuration.restartKeyService {
            let message = "key-service \(exit); its signing key is gone with it, so the appliance stops "
                + "(restarting it would silently change tee_id). Start the supervisor again, or pass --restart-key-service."
            output("[supervisor] FATAL: \(message)")
            fatalReason = message
            shutdown()
            return
        }
        children[name]?.restarts += 1
        metrics.restarted(managed.role)
        output("[supervisor] \(name) \(exit)")
        // Crash loops back off exponentially; the count resets once the child is ready again.
        var failures = managed.consecutiveFailures + 1
        while true {
            children[name]?.consecutiveFailures = failures
            let delay = restartDelay(afterFailures: failures)
            output("[supervisor] restarting \(name) in \(delay) (attempt \(failures))")
            try? await Task.sleep(for: delay)
            guard !stopping, let current = children[name], current.process == nil else { return }
            do {
                try await start(name, role: managed.role)
                if managed.role == .tlsFront { try await sendWorkerSet() }
                if managed.role == .keyService { await adoptRestartedKeyService() }
                return
            } catch {
                output("[supervisor] restarting \(name) failed: \(error)")
                failures += 1
            }
        }
    }

    /// A restarted key-service has new keys and a new `tee_id`. tls-front registers its
    /// certificate with it on its own once it answers again (see TLSFrontKit's
    /// `KeyServiceWatch`); the workers learned the old public key at start, so every one is
    /// replaced, the way a rotation does it. The new `tee_id` is logged (and from now on is the
    /// one signed host control commands must name), and `/health` shows it.
    private func adoptRestartedKeyService() async {
        while busy { try? await Task.sleep(for: .milliseconds(50)) }
        busy = true
        defer { busy = false }
        do {
            let reply = try await replaceWorkers()
            // Signed host control commands name the tee_id: they must name the new one now.
            await refreshTeeID()
            output("[supervisor] key-service restarted with new keys: tee_id \(teeID.map(\.description) ?? "unknown"); workers replaced (\(reply))")
        } catch {
            let message = "key-service restarted, but its workers could not be replaced: \(error)"
            output("[supervisor] FATAL: \(message)")
            fatalReason = message
            shutdown()
        }
    }

    func restartDelay(afterFailures failures: Int) -> Duration {
        let doubled = configuration.minimumRestartDelay * (1 << min(max(failures - 1, 0), 20))
        return min(doubled, configuration.maximumRestartDelay)
    }

    /// Reads key-service's `tee_id` (the supervisor's uid may call `health`).
    private func refreshTeeID() async {
        do {
            let endpoint = try Endpoint.unix(path: configuration.keyServiceSocket)
            teeID = try await ReadinessProbe.withKeyService(endpoint, timeout: .seconds(10)) { try await $0.health().teeID }
        } catch {
            teeID = nil
            output("[supervisor] could not read key-service's tee_id, so signed host control commands are refused: \(error)")
        }
    }

    // MARK: - tls-front control

    private func tlsFrontCommand(_ command: String) async throws -> String {
        let endpoint = try Endpoint.unix(path: configuration.tlsFrontControlSocket)
        let reply = try await LineExchange.exchange(command + "\n", with: endpoint, timeout: configuration.stopGrace + .seconds(5))
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard reply.hasPrefix("ok") else { throw SupervisorError.tlsFrontRefused(command: command, reply: reply) }
        return reply
    }

    /// Makes tls-front route to exactly `activeWorkers`; returns once removed ones are idle.
    private func sendWorkerSet() async throws {
        let list = activeWorkers.map { "unix://" + configuration.workerSocket($0) }.joined(separator: ",")
        _ = try await tlsFrontCommand("workers " + list)
        metrics.workersRouted.set(Double(activeWorkers.count))
    }

    private func tlsFrontStatus() async throws -> [String: String] {
        let reply = try await tlsFrontCommand("status")
        var fields: [String: String] = [:]
        for item in reply.split(separator: " ").dropFirst() {
            let pair = item.split(separator: "=", maxSplits: 1)
            if pair.count == 2 { fields[String(pair[0])] = String(pair[1]) }
        }
        return fields
    }

    // MARK: - Operations (the control socket's commands)

    private func exclusive<T: Sendable>(_ operation: () async throws -> T) async throws -> T {
        guard !busy else { throw SupervisorError.invalidCommand("another rotate/scale/restart/drain is in progress; try again when it finishes") }
        guard !stopping else { throw SupervisorError.invalidCommand("the appliance is stopping") }
        guard ready != nil else { throw SupervisorError.invalidCommand("the appliance is still starting") }
        busy = true
        defer { busy = false }
        return try await operation()
    }

    /// Starts a replacement for every worker, waits until each is healthy, switches tls-front
    /// to them, then stops the old ones (which by then have no request left): no request fails
    /// and key-service is untouched, so `tee_id` stays the same.
    public func rotateWorkers() async throws -> String {
        try await exclusive { try await replaceWorkers() }
    }

    private func replaceWorkers() async throws -> String {
        let old = activeWorkers
        let replacements = old.map { _ in allocateWorkerName() }
        do {
            try await startWorkers(replacements)
        } catch {
            for name in replacements { await stop(name) }
            throw error
        }
        activeWorkers = replacements
        try await sendWorkerSet()
        for name in old { await stop(name) }
        metrics.rotations.increment()
        return "rotated \(old.joined(separator: ",")) -> \(replacements.joined(separator: ","))"
    }

    public func scale(to count: Int) async throws -> String {
        guard (1...64).contains(count) else { throw SupervisorError.invalidCommand("scale: worker count must be 1-64, got \(count)") }
        return try await exclusive {
            if count > activeWorkers.count {
                let added = (activeWorkers.count..<count).map { _ in allocateWorkerName() }
                do {
                    try await startWorkers(added)
                } catch {
                    for name in added { await stop(name) }
                    throw error
                }
                activeWorkers += added
                try await sendWorkerSet()
            } else if count < activeWorkers.count {
                let removed = Array(activeWorkers[count...])
                activeWorkers = Array(activeWorkers[..<count])
                try await sendWorkerSet()
                for name in removed { await stop(name) }
            }
            return "workers: \(activeWorkers.joined(separator: ","))"
        }
    }

    /// A worker is replaced without downtime (a one-worker rotation); tls-front is restarted
    /// in place (connections drop, a new certificate is registered). key-service is refused:
    /// its keys would change under every worker.
    public func restart(_ name: String) async throws -> String {
        try await exclusive {
            guard let managed = children[name] else { throw SupervisorError.invalidCommand("restart: no child named '\(name)'") }
            switch managed.role {
            case .keyService:
                throw SupervisorError.invalidCommand(
                    "restart: refusing to restart key-service (new keys would change tee_id under every worker); use shutdown and start again"
                )
            case .tlsFront:
                await stop(name)
                try await start(name, role: .tlsFront)
                try await sendWorkerSet()
                return "restarted tls-front"
            case .egressBridge:
                // Workers' open upstream connections drop; their next calls reconnect.
                await stop(name)
                try await start(name, role: .egressBridge)
                return "restarted \(name)"
            case .worker:
                guard let index = activeWorkers.firstIndex(of: name) else {
                    throw SupervisorError.invalidCommand("restart: \(name) is not an active worker")
                }
                let replacement = allocateWorkerName()
                do {
                    try await start(replacement, role: .worker)
                } catch {
                    await stop(replacement)
                    throw error
                }
                activeWorkers[index] = replacement
                try await sendWorkerSet()
                await stop(name)
                return "replaced \(name) with \(replacement)"
            }
        }
    }

    /// Takes every worker out of tls-front's rotation and returns when in-flight requests are
    /// done; `/enclave/ready` then answers 503 so a load balancer moves traffic away. The
    /// workers keep running: `scale N` or `rotate-workers` puts traffic back.
    public func drain() async throws -> String {
        try await exclusive {
            let drained = activeWorkers
            activeWorkers = []
            _ = try await tlsFrontCommand("workers ")
            for name in drained { await stop(name) }
            return "drained: no worker receives traffic; in-flight requests finished"
        }
    }

    public func status() -> String {
        var lines = [
            "appliance \(stopping ? "stopping" : (ready == nil ? "starting" : "running"))\(configuration.dev ? " (dev)" : "") "
                + "runtime=\(configuration.runtimeDirectory)" + (ready.map { " listen=\($0.listen)" } ?? "")
                + (teeID.map { " tee_id=\($0)" } ?? "")
        ]
        func rank(_ role: Role) -> Int {
            switch role {
            case .keyService: 0
            case .egressBridge: 1
            case .tlsFront: 2
            case .worker: 3
            }
        }
        let sorted = children.sorted { (rank($0.value.role), $0.key.count, $0.key) < (rank($1.value.role), $1.key.count, $1.key) }
        for (name, managed) in sorted {
            let pid = managed.process.map { "pid=\($0.pid)" } ?? "pid=-"
            let state = managed.process == nil ? "restarting" : (managed.ready ? "ready" : "starting")
            let routed = managed.role == .worker ? (activeWorkers.contains(name) ? " routed" : " not-routed") : ""
            lines.append("\(name) \(pid) \(state) restarts=\(managed.restarts)\(routed)")
        }
        return lines.joined(separator: "\n")
    }

    /// The pid of a running child, for tests and `status`.
    public func pid(of name: String) -> Int32? { children[name]?.process?.pid }

    public var workers: [String] { activeWorkers }
}
