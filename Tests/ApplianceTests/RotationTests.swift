import Foundation
import GatewayCore
import Synchronization
import Testing

/// The appliance's runtime promises, checked against the real process tree (`supervisor --dev`)
/// with real clients. Serialized: each test runs a whole appliance, and the machine is small.
@Suite("appliance runtime", .serialized)
struct RuntimeTests {}

/// A token delay, so streams are still being generated while the operations run.
let slowWorkers = ["--local-token-delay-ms", "20"]

extension RuntimeTests {
    /// Zero-downtime operations: rotation, scaling and a tls-front restart while clients keep
    /// sending requests, every answer verified end to end.
    @Suite("rotation and scaling")
    struct RotationTests {
        @Test func rotatingEveryWorkerTwiceUnderLoadFailsNoRequestAndKeepsTheKey() async throws {
            try await ApplianceHarness.run(workers: 2, workerArguments: slowWorkers) { appliance in
                try await appliance.withClient { client in
                    let key = try await client.signingKey()
                    let before = try await appliance.status()
                    let load = LoadGenerator(client: client, verifier: AnswerVerifier(key: key))
                    var rotations: [RotationRecord] = []

                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask { await load.run(clients: 6) }
                        defer { load.stop() }
                        try await load.waitForMoreRequests(8)
                        for round in 1...2 {
                            rotations.append(try await rotateWhileStreaming(appliance, load, round: round))
                            try await load.waitForMoreRequests(8)
                        }
                        load.stop()
                        try await group.waitForAll()
                    }

                    let report = load.report
                    print("rotation under load: verified \(report.summary) (\(report.total) requests, 2 rotations)")
                    for rotation in rotations { print("  \(rotation)") }
                    #expect(report.failures.isEmpty, "\(report.failures.count) failed: \(report.failures.prefix(5))")
                    for kind in ChatProbe.Kind.allCases {
                        #expect(report.verified[kind, default: 0] > 0, "no \(kind.rawValue) request was verified")
                    }
                    #expect(report.teeIDs == [key.teeID.description], "tee_ids seen: \(report.teeIDs)")
                    let keyAfter = try await client.signingKey()
                    #expect(keyAfter.teeID == key.teeID)

                    for rotation in rotations {
                        // Streams that were generating on the old workers when the rotation began
                        // finish verified: the old workers are stopped only once they are idle.
                        #expect(rotation.failures.isEmpty, "round \(rotation.round): \(rotation.failures)")
                        #expect(rotation.streams.count == 2)
                        #expect(rotation.reply.contains("rotated"), "\(rotation.reply)")
                    }

                    let after = try await appliance.status()
                    #expect(after["key-service"]?.pid != nil)
                    #expect(after["key-service"]?.pid == before["key-service"]?.pid, "key-service was replaced")
                    #expect(after["tls-front"]?.pid == before["tls-front"]?.pid, "tls-front was replaced")
                    #expect(after.workers.count == 2)
                    #expect(after.workers.allSatisfy { $0.state == "ready" && $0.routed == true }, "\(after)")
                    let oldNames = Set(before.workers.map(\.name)), newNames = Set(after.workers.map(\.name))
                    let oldPIDs = Set(before.workers.compactMap(\.pid)), newPIDs = Set(after.workers.compactMap(\.pid))
                    #expect(oldNames.count == 2 && oldPIDs.count == 2)
                    #expect(oldNames.isDisjoint(with: newNames), "before: \(oldNames) after: \(newNames)")
                    #expect(oldPIDs.isDisjoint(with: newPIDs), "before: \(oldPIDs) after: \(newPIDs)")
                    for pid in oldPIDs { #expect(kill(pid, 0) != 0, "old worker pid \(pid) still runs") }
                }
            }
        }

        /// What an outside load found before tls-front probed a new worker set *before* switching
        /// to it: 8 keep-alive clients (half streaming) for 20 s and one rotation got 1-3 503s in
        /// 4 runs of 6. Here: three rotations and a scale 1→4→1 in the same 20 s, zero failures.
        @Test func eightKeepAliveClientsForTwentySecondsThroughThreeRotationsAndAScaleLoseNothing() async throws {
            try await ApplianceHarness.run(workers: 2) { appliance in
                try await appliance.withClient { client in
                    let key = try await client.signingKey()
                    let load = LoadGenerator(client: client, verifier: AnswerVerifier(key: key))
                    let operations = [["rotate-workers"], ["rotate-workers"], ["rotate-workers"], ["scale", "1"], ["scale", "4"], ["scale", "1"]]
                    var replies: [String] = []
                    let start = ContinuousClock.now
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask { await load.run(clients: 8) }
                        defer { load.stop() }
                        for (index, words) in operations.enumerated() {
                            try await Task.sleep(until: start + .seconds(2 + 3 * index))
                            replies.append(try await appliance.control(words))
                        }
                        try await Task.sleep(until: start + .seconds(20))
                        load.stop()
                        try await group.waitForAll()
                    }
                    let report = load.report
                    print("8 clients, 20 s, 3 rotations and scale 1→4→1: verified \(report.summary) (\(report.total) requests)")
                    for reply in replies { print("  \(reply.trimmingCharacters(in: .whitespacesAndNewlines))") }
                    #expect(report.failures.isEmpty, "\(report.failures.count) failed: \(report.failures.prefix(5))")
                    for kind in ChatProbe.Kind.allCases {
                        #expect(report.verified[kind, default: 0] > 0, "no \(kind.rawValue) request was verified")
                    }
                    #expect(report.teeIDs == [key.teeID.description], "tee_ids seen: \(report.teeIDs)")
                    #expect(replies.filter { $0.contains("rotated") }.count == 3, "\(replies)")
                    let after = try await appliance.status()
                    #expect(after.workers.count == 1 && after.workers.allSatisfy { $0.routed == true && $0.state == "ready" }, "\(after)")
                }
            }
        }

        @Test func scalingToThreeAndBackToOneUnderLoadFailsNoRequest() async throws {
            try await ApplianceHarness.run(workers: 1, workerArguments: slowWorkers) { appliance in
                try await appliance.withClient { client in
                    let key = try await client.signingKey()
                    let load = LoadGenerator(client: client, verifier: AnswerVerifier(key: key))
                    var statuses: [ApplianceStatus] = []
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask { await load.run(clients: 4) }
                        defer { load.stop() }
                        try await load.waitForStreamsGenerating(1)
                        print("scale 3: \(try await appliance.control("scale", "3"))", terminator: "")
                        statuses.append(try await appliance.status())
                        try await load.waitForMoreRequests(12)
                        try await load.waitForStreamsGenerating(2)
                        print("scale 1: \(try await appliance.control("scale", "1"))", terminator: "")
                        statuses.append(try await appliance.status())
                        try await load.waitForMoreRequests(8)
                        load.stop()
                        try await group.waitForAll()
                    }
                    let report = load.report
                    print("scale 1→3→1 under load: verified \(report.summary)")
                    #expect(report.failures.isEmpty, "\(report.failures.count) failed: \(report.failures.prefix(5))")
                    #expect(report.teeIDs == [key.teeID.description], "tee_ids seen: \(report.teeIDs)")
                    let (up, down) = (statuses[0], statuses[1])
                    #expect(up.workers.count == 3 && up.workers.allSatisfy { $0.routed == true && $0.state == "ready" }, "\(up)")
                    #expect(down.workers.count == 1 && down.workers.allSatisfy { $0.routed == true }, "\(down)")
                    #expect(down.workers.first?.name == up.workers.first?.name, "scale down keeps the first worker")
                }
            }
        }

        @Test func restartingTLSFrontKeepsTheKeyAndBindsTheNewCertificate() async throws {
            try await ApplianceHarness.run(workers: 1) { appliance in
                let before = try await appliance.status()
                let oldCertificate = try String(contentsOfFile: appliance.certificatePath, encoding: .utf8)
                let key = try await appliance.withClient { try await $0.signingKey() }

                let reply = try await appliance.control("restart", "tls-front")
                #expect(reply.contains("restarted tls-front"))
                let after = try await appliance.waitForStatus("tls-front ready") { $0["tls-front"]?.state == "ready" }
                #expect(after["tls-front"]?.pid != before["tls-front"]?.pid, "tls-front was not replaced")
                #expect(after["key-service"]?.pid == before["key-service"]?.pid, "key-service was replaced")
                #expect(after.summary.contains("listen=tcp://127.0.0.1:"), "\(after.summary)")
                #expect(
                    before.summary == after.summary,
                    "the appliance's address changed: \(before.summary) -> \(after.summary)"
                )
                let announced = appliance.output.last { $0.contains("tls-front listening") } ?? "none"
                let port = appliance.url.split(separator: ":").last.map(String.init) ?? "?"
                #expect(announced.contains("endpoint=tcp://127.0.0.1:\(port) "), "the new tls-front listens elsewhere: \(announced)")
                let newCertificate = try String(contentsOfFile: appliance.certificatePath, encoding: .utf8)
                #expect(newCertificate != oldCertificate, "tls-front kept its certificate (it makes one per start)")

                // A fresh client trusting the new certificate, on the address the appliance announced.
                try await appliance.withClient { client in
                    let keyAfter = try await client.signingKey()
                    #expect(keyAfter.teeID == key.teeID)
                    let load = LoadGenerator(client: client, verifier: AnswerVerifier(key: key))
                    for kind in ChatProbe.Kind.allCases { await load.perform(ChatProbe(kind, tag: "after-restart", words: 3)) }
                    #expect(load.report.failures.isEmpty, "\(load.report.failures)")
                    #expect(load.report.teeIDs == [key.teeID.description])
                }
                // The new certificate is the one the attestation binds.
                let attest = try await offThePool {
                    try run(executable("gatewayctl"), ["attest", "--url", appliance.url, "--dev-root", appliance.devRootPath])
                }
                #expect(attest.status == 0, "\(attest.stdout)\(attest.stderr)")
                #expect(attest.stdout.contains("✓ user_data: TLS certificate"), "\(attest.stdout)")
            }
        }
    }
}

/// One rotation: the long streams that were generating on the old workers when it began
/// (how long each ran), and the rotation's reply and duration.
struct RotationRecord: CustomStringConvertible {
    let round: Int
    let reply: String
    let streams: [Duration]
    let failures: [String]
    let duration: Duration

    var description: String {
        "round \(round): \(reply.trimmingCharacters(in: .whitespacesAndNewlines)) in \(duration); "
            + "\(streams.count) long streams begun before it finished verified (ran \(streams))"
    }
}

/// Starts two long streams, waits until both are generating (so both run on the workers about
/// to be replaced), rotates, and waits for the streams. They go through the load generator, so
/// they are verified and counted in its report like every other request.
private func rotateWhileStreaming(_ appliance: ApplianceHarness, _ load: LoadGenerator, round: Int) async throws -> RotationRecord {
    let generating = Shared(0)
    let finished = Shared<[Duration]>([])
    let failures = Shared<[String]>([])
    return try await withThrowingTaskGroup(of: Void.self) { group in
        for index in 0..<2 {
            group.addTask {
                let probe = ChatProbe(.streamedText, tag: "long\(round)-\(index)", words: 120)
                let start = ContinuousClock.now
                if await load.perform(probe, onGenerating: { generating.withLock { $0 += 1 } }) != nil {
                    finished.withLock { $0.append(.now - start) }
                } else {
                    failures.withLock { $0.append("long stream \(index) failed (see the load report)") }
                }
            }
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while generating.value < 2 {
            guard ContinuousClock.now < deadline else { throw HarnessError("long streams did not start within 30 s") }
            try await Task.sleep(for: .milliseconds(5))
        }
        let start = ContinuousClock.now
        let reply = try await appliance.control("rotate-workers")
        let duration = ContinuousClock.now - start
        try await group.waitForAll()
        return RotationRecord(
            round: round, reply: reply, streams: finished.value, failures: failures.value,
            duration: duration
        )
    }
}
