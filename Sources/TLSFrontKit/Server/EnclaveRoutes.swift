import EnclaveIPC
import Foundation
import Hummingbird
import InferenceAPI
import Logging

/// The endpoints tls-front answers itself (ARCHITECTURE §4): `/health`, `/enclave/ready`,
/// `/enclave/attestation` and `POST /v1/keys`. Everything else goes to the workers.
struct EnclaveRoutes: Sendable {
    let keys: KeyServiceClient
    let pool: WorkerPool
    /// Consulted first, so `/enclave/ready` and `/health` answer at once while key-service is
    /// down instead of waiting out the client's request timeout.
    let keyServiceWatch: KeyServiceWatch
    let version: String
    let logger: Logger

    /// Injection envelopes are small JSON; the key-service frame limit is 1 MiB.
    static let maximumInjectionBytes = 512 * 1024

    /// The response for a local route, or nil when the path belongs to the workers.
    func response(to request: inout Request) async -> Response? {
        switch (request.method, request.uri.path) {
        case (.get, "/health"): return await health()
        case (.get, "/enclave/ready"): return await ready()
        case (.get, "/enclave/attestation"):
            return await attestation(nonce: request.uri.queryParameters["nonce"].map(String.init))
        case (.post, "/v1/keys"): return await injectSecrets(&request)
        case (_, "/health"), (_, "/enclave/ready"), (_, "/enclave/attestation"), (_, "/v1/keys"):
            let allowed = request.uri.path == "/v1/keys" ? ["POST"] : ["GET"]
            return FrontResponse.error(
                .methodNotAllowed(method: request.method.rawValue, path: request.uri.path, allowed: allowed), path: request.uri.path
            )
        default: return nil
        }
    }

    private struct HealthBody: Encodable {
        struct Workers: Encodable {
            let ready: Int
            let total: Int
        }

        let status: String
        let version: String
        let teeEnabled: Bool?
        let teeID: String?
        let workers: Workers
        let providers: [String]
        let uptimeSeconds: UInt64?

        enum CodingKeys: String, CodingKey {
            case status, version, workers, providers
            case teeEnabled = "tee_enabled"
            case teeID = "tee_id"
            case uptimeSeconds = "uptime_seconds"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(status, forKey: .status)
            try container.encode(version, forKey: .version)
            try container.encode(teeEnabled, forKey: .teeEnabled)
            try container.encode(teeID, forKey: .teeID)
            try container.encode(workers, forKey: .workers)
            try container.encode(providers, forKey: .providers)
            try container.encode(uptimeSeconds, forKey: .uptimeSeconds)
        }
    }

    /// `ok` with the key service up and a worker ready; `degraded` (still 200: the enclave
    /// identity is there) with no ready worker; 503 `unavailable` when the key service does not
    /// answer, with the tee fields null rather than guessed.
    private func health() async -> Response {
        let readiness = pool.readiness
        let workers = HealthBody.Workers(ready: readiness.ready, total: readiness.total)
        do {
            guard keyServiceWatch.isAvailable else {
                throw KeyServiceClientError.timeout(.health, after: keyServiceWatch.interval, detail: "key-service does not answer")
            }
            let keyService = try await keys.health()
            return FrontResponse.json(
                .ok,
                HealthBody(
                    status: readiness.ready > 0 ? "ok" : "degraded",
                    version: version,
                    teeEnabled: keyService.teeEnabled,
                    teeID: keyService.teeID.description,
                    workers: workers,
                    providers: keyService.providers,
                    uptimeSeconds: keyService.uptimeSeconds
                )
            )
        } catch {
            logger.warning("key service health failed", metadata: ["error": "\(error)"])
            return FrontResponse.json(
                .serviceUnavailable,
                HealthBody(
                    status: "unavailable", version: version, teeEnabled: nil, teeID: nil, workers: workers,
                    providers: [], uptimeSeconds: nil
                )
            )
        }
    }

    private struct ReadyBody: Encodable {
        let ready: Bool
        let reason: String?
    }

    private func ready() async -> Response {
        guard keyServiceWatch.isAvailable else {
            return FrontResponse.json(.serviceUnavailable, ReadyBody(ready: false, reason: "key service unavailable: it does not answer"))
        }
        let keyServiceReady: Bool
        do {
            keyServiceReady = try await keys.ready()
        } catch {
            return FrontResponse.json(.serviceUnavailable, ReadyBody(ready: false, reason: "key service unavailable: \(error)"))
        }
        guard keyServiceReady else {
            return FrontResponse.json(.serviceUnavailable, ReadyBody(ready: false, reason: "key service is not ready"))
        }
        guard pool.readiness.ready > 0 else {
            return FrontResponse.json(.serviceUnavailable, ReadyBody(ready: false, reason: "no inference worker is ready"))
        }
        return FrontResponse.json(.ok, ReadyBody(ready: true, reason: nil))
    }

    private func attestation(nonce text: String?) async -> Response {
        let nonce: AttestationNonce
        do {
            nonce = try NonceParameter.parse(text)
        } catch {
            return FrontResponse.error(
                APIError(
                    status: 400, message: error.description, openAIType: "invalid_request_error", param: "nonce",
                    anthropicType: "invalid_request_error"
                ),
                path: "/enclave/attestation"
            )
        }
        do {
            let document = try await keys.attest(nonce: nonce)
            return FrontResponse.text(.ok, Data(document).base64EncodedString() + "\n")
        } catch {
            return keyServiceFailure(error, operation: "attestation")
        }
    }

    private struct InjectedBody: Encodable {
        let providers: [String]
    }

    private func injectSecrets(_ request: inout Request) async -> Response {
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: Self.maximumInjectionBytes)
        } catch {
            return FrontResponse.error(.bodyTooLarge(limit: Self.maximumInjectionBytes), path: "/v1/keys")
        }
        do {
            let injected = try await keys.injectSecrets(envelope: Array(buffer: body))
            logger.info("provider keys injected", metadata: ["providers": "\(injected.providers)"])
            return FrontResponse.json(.ok, InjectedBody(providers: injected.providers))
        } catch {
            return keyServiceFailure(error, operation: "key injection")
        }
    }

    /// The key service's own refusal keeps its status (401 bad signature, 409 replay, …);
    /// transport failures are 503: the enclave is up but its key service is not reachable.
    private func keyServiceFailure(_ error: KeyServiceClientError, operation: String) -> Response {
        if case .server(let refusal) = error {
            let status = refusal.code.httpStatus
            return FrontResponse.error(
                APIError(
                    status: status, message: "\(operation) refused: \(refusal.message)",
                    openAIType: status < 500 ? "invalid_request_error" : "server_error", code: refusal.code.rawValue,
                    anthropicType: status < 500 ? "invalid_request_error" : "api_error"
                ),
                path: "/enclave"
            )
        }
        logger.warning("key service call failed", metadata: ["operation": "\(operation)", "error": "\(error)"])
        return FrontResponse.error(.unavailable("\(operation) unavailable: the key service did not answer"), path: "/enclave")
    }
}
