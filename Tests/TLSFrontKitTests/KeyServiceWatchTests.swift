import EnclaveIPC
import Foundation
import Logging
import Testing

@testable import TLSFrontKit

/// tls-front's view of whether key-service answers: a busy one (connected, slow to answer)
/// stays available up to the silence limit; a silent one does not stay available; a gone one is
/// unavailable; one that answers again is available again.
@Suite struct KeyServiceWatchTests {
    @Test func aSlowKeyServiceStaysAvailableUpToTheSilenceLimitThenNotAndRecovers() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keyService = FakeKeyService()
        let endpoint = try Endpoint.unix(path: directory + "/key.sock")
        let policy = PeerPolicy(classesByUID: [getuid(): Set(PeerClass.allCases)])
        let server = try await KeyServiceServer(bindingTo: endpoint, handler: keyService, policy: policy)
        let interval = Duration.milliseconds(50)  // each poll waits up to 150 ms
        let watch = KeyServiceWatch(interval: interval, silenceLimit: .milliseconds(600), logger: Logger(label: "watch-test"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            group.addTask { await watch.run(endpoint) {} }
            defer { group.cancelAll() }
            // Answering: available (it polls several times meanwhile).
            try await Task.sleep(for: .milliseconds(300))
            #expect(watch.isAvailable)

            // Connected but never answering in time: unavailable, but only once the polls have
            // gone unanswered for the silence limit.
            let slowSince = ContinuousClock.now
            keyService.healthDelay.withLock { $0 = .seconds(2) }
            try await waitUntil("unavailable") { !watch.isAvailable }
            let elapsed = ContinuousClock.now - slowSince
            // (The last answer may have come up to one interval before the change.)
            #expect(elapsed >= watch.silenceLimit - interval * 2, "unavailable after \(elapsed)")

            // Answering again: available again.
            keyService.healthDelay.withLock { $0 = .zero }
            try await waitUntil("available again") { watch.isAvailable }
        }
    }

    @Test func aKeyServiceThatIsGoneIsUnavailable() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let endpoint = try Endpoint.unix(path: directory + "/nobody-listens.sock")
        let watch = KeyServiceWatch(interval: .milliseconds(50), logger: Logger(label: "watch-test"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await watch.run(endpoint) {} }
            defer { group.cancelAll() }
            try await waitUntil("unavailable") { !watch.isAvailable }
        }
    }

    private func waitUntil(_ what: String, limit: Duration = .seconds(20), _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + limit
        while !condition() {
            guard ContinuousClock.now < deadline else { throw TestFailure("not \(what) within \(limit)") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}

private struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
