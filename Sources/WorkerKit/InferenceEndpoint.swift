import EnclaveIPC
import Foundation
import GatewayCore
import InferenceAPI
import Logging
import Providers

/// The signed inference routes: parse, validate, hash the canonical request, run the provider,
/// and have key-service sign (request hash, output hash). The worker never holds a key: it only
/// sends the two hashes, and key-service adds its own timestamp.
struct InferenceEndpoint: Sendable {
    let registry: ModelRegistry
    let providers: ProviderRouter
    let keyService: KeyServiceClient
    /// Silence after which a stream gets a keep-alive comment (see `WorkerReply.eventStream`).
    let streamKeepAlive: Duration
    let logger: Logger

    func respond(route: InferenceRequest.Route, body: [UInt8]) async -> WorkerReply {
        let dialect: APIDialect = route == .messages ? .anthropic : .openAI
        let request: InferenceRequest
        let modelRoute: ModelRoute
        let apiKey: String?
        do throws(APIError) {
            request = try Self.validate(route: route, body: body)
            do {
                modelRoute = try registry.route(for: request.model)
            } catch {
                throw .unknownModel(request.model, available: error.supported)
            }
            apiKey = try await self.apiKey(for: modelRoute)
        } catch {
            return .json(error, dialect)
        }

        let events = providers.complete(request.chat.body, route: modelRoute, apiKey: apiKey)
        guard request.stream else { return await complete(request, events: events) }
        switch await StreamStart.wait(for: events) {
        case .started(let events):
            return stream(request, events: events)
        case .failed(let error as ProviderError):
            return .json(.provider(error), request.dialect)
        case .failed(let error):
            return .json(.upstream("the provider stream failed: \(error)"), request.dialect)
        }
    }

    /// `count_tokens` is unsigned: it returns an estimate, not an inference result.
    func countTokens(body: [UInt8]) -> WorkerReply {
        do throws(APIError) {
            let value = try Self.parse(body)
            do {
                return .json(status: 200, body: TokenEstimate.body(try AnthropicRequest(body: value, countingTokens: true)))
            } catch {
                throw .invalidRequest(error)
            }
        } catch {
            return .json(error, .anthropic)
        }
    }

    static func parse(_ body: [UInt8]) throws(APIError) -> JSONValue {
        do {
            return try JSONParser().parse(body)
        } catch {
            throw .malformedJSON(error)
        }
    }

    static func validate(route: InferenceRequest.Route, body: [UInt8]) throws(APIError) -> InferenceRequest {
        let value = try parse(body)
        do {
            return try InferenceRequest(route: route, body: value)
        } catch {
            throw .invalidRequest(error)
        }
    }

    /// The provider key from key-service, fetched per request so an injection or rotation takes
    /// effect at once. A model that needs a key nobody injected is a 503 before any streaming.
    private func apiKey(for route: ModelRoute) async throws(APIError) -> String? {
        guard let keyName = route.keyName else { return nil }
        let secrets: ProviderSecrets
        do {
            secrets = try await keyService.providerSecrets()
        } catch {
            logger.error("provider secrets unavailable", metadata: ["error": "\(error)"])
            throw .unavailable("the key service is unavailable; retry shortly", retryAfterSeconds: 1)
        }
        guard let key = secrets.apiKeys[keyName] else {
            throw .unavailable(ProviderError.missingCredentials(provider: route.provider.name).description)
        }
        return key
    }

    private func sign(_ request: InferenceRequest, _ answer: CompletionAccumulator) async throws(APIError) -> TEESignature {
        do {
            return try await keyService.signInference(requestHash: request.canonical.hash, outputHash: answer.outputHash)
        } catch {
            logger.error("signing failed", metadata: ["error": "\(error)"])
            throw .unavailable("the response could not be signed; retry shortly", retryAfterSeconds: 1)
        }
    }

    private func complete(_ request: InferenceRequest, events: AsyncThrowingStream<CompletionEvent, any Error>) async -> WorkerReply {
        var answer = CompletionAccumulator()
        do throws(APIError) {
            do {
                for try await event in events { answer.add(event) }
            } catch let error as ProviderError {
                throw .provider(error)
            } catch {
                throw .upstream("the provider stream failed: \(error)")
            }
            let signature = try await sign(request, answer)
            return .json(status: 200, body: request.responseBody(answer, id: ResponseID.make(for: request.route), signature: signature))
        } catch {
            return .json(error, request.dialect)
        }
    }

    /// Each event is rendered and written as it arrives. A failed write (client gone) ends the
    /// loop, which drops the provider stream and so cancels generation. A provider or signing
    /// failure ends the stream with the dialect's error frame and no signature.
    private func stream(_ request: InferenceRequest, events: AsyncThrowingStream<CompletionEvent, any Error>) -> WorkerReply {
        .eventStream(keepAlive: streamKeepAlive) { send in
            var renderer = request.streamRenderer(id: ResponseID.make(for: request.route), created: UInt64(Date().timeIntervalSince1970))
            let failure: APIError
            do {
                for try await event in events {
                    let frames = try renderer.render(event)
                    if !frames.isEmpty { try send(frames) }
                }
                let signature = try await sign(request, renderer.accumulator)
                try send(renderer.finish(signature))
                return
            } catch is ClientDisconnected {
                logger.debug("client disconnected; generation cancelled")
                return
            } catch let error as ProviderError {
                guard error != .cancelled else { return }
                failure = .provider(error)
            } catch let error as APIError {
                failure = error
            } catch {
                failure = .upstream("the provider stream failed: \(error)")
            }
            try? send(renderer.fail(failure))
        }
    }
}

/// Waits for a provider stream's first event before the worker commits to `200
/// text/event-stream`, so a provider that refuses up front (429 with `retry-after`, 5xx, a
/// timeout before any token) gets its own status and headers instead of a 200 with an error frame.
enum StreamStart {
    enum Outcome: Sendable {
        /// The same events, the first one included; dropping this stream cancels the provider.
        case started(AsyncThrowingStream<CompletionEvent, any Error>)
        /// The provider failed before producing an event.
        case failed(any Error)
    }

    static func wait(for events: AsyncThrowingStream<CompletionEvent, any Error>) async -> Outcome {
        let (relayed, relay) = AsyncThrowingStream.makeStream(of: CompletionEvent.self)
        return await withCheckedContinuation { (started: CheckedContinuation<Outcome, Never>) in
            let task = Task {
                var pending: CheckedContinuation<Outcome, Never>? = started
                do {
                    for try await event in events {
                        relay.yield(event)
                        pending?.resume(returning: .started(relayed))
                        pending = nil
                    }
                    relay.finish()
                    pending?.resume(returning: .started(relayed))
                } catch {
                    if let pending {
                        pending.resume(returning: .failed(error))
                    } else {
                        relay.finish(throwing: error)
                    }
                }
            }
            relay.onTermination = { _ in task.cancel() }
        }
    }
}

extension WorkerReply {
    static func json(_ error: APIError, _ dialect: APIDialect) -> WorkerReply {
        .json(status: error.status, body: error.body(dialect), retryAfterSeconds: error.retryAfterSeconds)
    }
}
