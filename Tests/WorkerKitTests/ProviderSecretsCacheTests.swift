import EnclaveIPC
import Synchronization
import Testing

@testable import WorkerKit

/// Provider keys cost one key-service round trip per second at most, a new key is seen at once,
/// a replaced one within the maximum age, and a failed fetch is not remembered.
@Suite("provider secrets cache")
struct ProviderSecretsCacheTests {
    /// A stand-in for key-service's `providerSecrets`: answers with `current`, counts calls.
    final class FakeSecrets: Sendable {
        let current = Mutex<[String: String]>([:])
        let calls = Mutex(0)
        let failing = Mutex(false)

        func fetch() throws(KeyServiceClientError) -> ProviderSecrets {
            calls.withLock { $0 += 1 }
            if failing.withLock({ $0 }) { throw KeyServiceClientError.timeout(.providerSecrets, after: .seconds(10), detail: "test") }
            return ProviderSecrets(apiKeys: current.withLock { $0 })
        }
    }

    private func cache(_ fake: FakeSecrets, maximumAge: Duration) -> ProviderSecretsCache {
        ProviderSecretsCache(maximumAge: maximumAge) { () throws(KeyServiceClientError) in try fake.fetch() }
    }

    @Test func aPresentKeyIsFetchedOncePerMaximumAge() async throws {
        let fake = FakeSecrets()
        fake.current.withLock { $0 = ["openai_api_key": "sk-1"] }
        let secrets = cache(fake, maximumAge: .seconds(60))
        for _ in 0..<50 { #expect(try await secrets.key(named: "openai_api_key") == "sk-1") }
        #expect(fake.calls.withLock { $0 } == 1)
    }

    @Test func aMissingKeyIsAskedForEveryTimeSoAnInjectionCountsAtOnce() async throws {
        let fake = FakeSecrets()
        let secrets = cache(fake, maximumAge: .seconds(60))
        #expect(try await secrets.key(named: "openai_api_key") == nil)
        #expect(try await secrets.key(named: "openai_api_key") == nil)
        #expect(fake.calls.withLock { $0 } == 2)
        fake.current.withLock { $0 = ["openai_api_key": "sk-new"] }
        #expect(try await secrets.key(named: "openai_api_key") == "sk-new")
        #expect(fake.calls.withLock { $0 } == 3)
    }

    @Test func aReplacedKeyIsSeenOnceTheEntryIsOlderThanTheMaximumAge() async throws {
        let fake = FakeSecrets()
        fake.current.withLock { $0 = ["xai_api_key": "old"] }
        let secrets = cache(fake, maximumAge: .milliseconds(50))
        #expect(try await secrets.key(named: "xai_api_key") == "old")
        fake.current.withLock { $0 = ["xai_api_key": "new"] }
        try await Task.sleep(for: .milliseconds(120))
        #expect(try await secrets.key(named: "xai_api_key") == "new")
        #expect(fake.calls.withLock { $0 } == 2)
    }

    @Test func aFailedFetchIsThrownAndNotRemembered() async throws {
        let fake = FakeSecrets()
        fake.current.withLock { $0 = ["openai_api_key": "sk-1"] }
        fake.failing.withLock { $0 = true }
        let secrets = cache(fake, maximumAge: .seconds(60))
        await #expect(throws: KeyServiceClientError.self) { try await secrets.key(named: "openai_api_key") }
        fake.failing.withLock { $0 = false }
        #expect(try await secrets.key(named: "openai_api_key") == "sk-1")
        #expect(fake.calls.withLock { $0 } == 2)
    }
}
