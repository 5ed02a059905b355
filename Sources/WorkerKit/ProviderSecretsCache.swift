import EnclaveIPC
import Synchronization

/// The provider API keys a worker last fetched from key-service, reused for up to `maximumAge`
/// so a request to a provider costs one key-service round trip (the signature) instead of two.
///
/// A key the cached set lacks is fetched again at once, so a first injection takes effect on the
/// next request; a replaced or removed key takes effect within `maximumAge`. The worker holds
/// each key anyway to call the provider; the cache keeps it no longer than that second.
final class ProviderSecretsCache: Sendable {
    private struct Entry {
        let secrets: ProviderSecrets
        let fetched: ContinuousClock.Instant
    }

    let maximumAge: Duration
    private let entry = Mutex<Entry?>(nil)
    private let fetch: @Sendable () async throws(KeyServiceClientError) -> ProviderSecrets

    init(maximumAge: Duration = .seconds(1), fetch: @escaping @Sendable () async throws(KeyServiceClientError) -> ProviderSecrets) {
        self.maximumAge = maximumAge
        self.fetch = fetch
    }

    /// The key named `name`, or nil when key-service has none by that name.
    func key(named name: String) async throws(KeyServiceClientError) -> String? {
        let now = ContinuousClock.now
        let cached = entry.withLock { entry -> String? in
            guard let entry, now - entry.fetched < maximumAge else { return nil }
            return entry.secrets.apiKeys[name]
        }
        if let cached { return cached }
        let secrets = try await fetch()
        entry.withLock { $0 = Entry(secrets: secrets, fetched: now) }
        return secrets.apiKeys[name]
    }
}
