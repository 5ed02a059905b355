import AsyncHTTPClient
import Crypto
import EnclaveIPC
import Foundation
import NIOCore
import Testing

@testable import TLSFrontKit

@Suite("tls-front over real TLS", .serialized)
struct TLSFrontTests {
    @Test func registersItsCertificateBeforeServingAndReportsHealth() async throws {
        try await FrontHarness.run(workers: ["w1", "w2"]) { harness in
            let registered = harness.keyService.registered.withLock { $0 }
            #expect(registered == [harness.front.certificate.sha256])
            #expect(harness.front.certificate.sha256 == Array(SHA256.hash(data: harness.front.certificate.derBytes)))

            let (status, body, headers) = try await harness.get("/health")
            #expect(status == 200)
            #expect(headers["content-type"] == "application/json")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
            #expect(json["status"] as? String == "ok")
            #expect(json["tee_id"] as? String == FakeKeyService.teeID.description)
            #expect(json["tee_enabled"] as? Bool == false)
            #expect(json["providers"] as? [String] == ["local"])
            #expect(json["uptime_seconds"] as? Int == 7)
            #expect(json["version"] as? String == "0.1.0")
            let workers = try #require(json["workers"] as? [String: Int])
            #expect(workers == ["ready": 2, "total": 2])
        }
    }

    @Test func readyFollowsKeyServiceAndWorkers() async throws {
        try await FrontHarness.run(workers: ["w1"], keyServiceReady: false) { harness in
            var (status, body, _) = try await harness.get("/enclave/ready")
            #expect(status == 503)
            #expect(body.contains("key service is not ready"))

            harness.keyService.isReady.withLock { $0 = true }
            (status, _, _) = try await harness.get("/enclave/ready")
            #expect(status == 200)

            harness.worker(0).healthy.withLock { $0 = false }
            try await waitUntil { harness.front.pool.readiness.ready == 0 }
            (status, body, _) = try await harness.get("/enclave/ready")
            #expect(status == 503)
            #expect(body.contains("no inference worker is ready"))
            let health = try await harness.get("/health")
            #expect(health.status == 200)
            #expect(health.body.contains(#""status":"degraded""#))

            harness.worker(0).healthy.withLock { $0 = true }
            try await waitUntil { harness.front.pool.readiness.ready == 1 }
            (status, _, _) = try await harness.get("/enclave/ready")
            #expect(status == 200)
        }
    }

    @Test func attestationReturnsBase64DocumentAndValidatesTheNonce() async throws {
        try await FrontHarness.run { harness in
            let nonce = (0..<20).map { UInt8($0 * 7) }
            let hex = nonce.map { String(format: "%02X", $0) }.joined()
            let (status, body, headers) = try await harness.get("/enclave/attestation?nonce=\(hex)")
            #expect(status == 200)
            #expect(headers["content-type"]?.hasPrefix("text/plain") == true)
            #expect(body.hasSuffix("\n"))
            let document = try #require(Data(base64Encoded: String(body.dropLast())))
            #expect(Array(document) == [0xD2] + nonce)

            for (query, fragment) in [
                ("", "is required"),
                ("?nonce=abc", "odd number"),
                ("?nonce=" + String(repeating: "ab", count: 10), "expected 40 to 128 hex digits"),
                ("?nonce=" + String(repeating: "zz", count: 20), "offset 0"),
                ("?nonce=" + String(repeating: "ab", count: 70), "140 hex digits"),
            ] {
                let (status, body, headers) = try await harness.get("/enclave/attestation" + query)
                #expect(status == 400, "query \(query)")
                #expect(headers["content-type"] == "application/json")
                #expect(body.contains(fragment), "query \(query): \(body)")
            }
            #expect(harness.keyService.attestedNonces.withLock { $0.count } == 1)
        }
    }

    @Test func keyInjectionKeepsTheKeyServiceStatus() async throws {
        try await FrontHarness.run { harness in
            for (envelope, expected) in [("good", 200), ("replay", 409), ("forged", 401)] {
                var request = HTTPClientRequest(url: harness.baseURL + "/v1/keys")
                request.method = .POST
                request.body = .bytes(ByteBuffer(string: envelope))
                let (status, body, _) = try await harness.send(request)
                #expect(status == expected, "envelope \(envelope): \(body)")
            }
            let (status, _, _) = try await harness.get("/v1/keys")
            #expect(status == 405)
        }
    }

    @Test func proxiesBodiesAndSetsForwardingHeaders() async throws {
        try await FrontHarness.run { harness in
            var request = HTTPClientRequest(url: harness.baseURL + "/v1/echo?x=1")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "X-Forwarded-For", value: "6.6.6.6")
            let payload = String(repeating: "{\"k\":1}", count: 5000)
            request.body = .bytes(ByteBuffer(string: payload))
            let (status, body, headers) = try await harness.send(request)
            #expect(status == 200)
            #expect(body == payload)
            #expect(headers["x-worker"] == "w1")
            let seen = harness.worker(0).lastHeaders.withLock { $0 }
            #expect(seen["x-forwarded-for"] == "127.0.0.1", "a client-supplied X-Forwarded-For is replaced")
            #expect(seen["x-forwarded-proto"] == "https")
            #expect(seen["content-type"] == "application/json")

            let (missing, _, _) = try await harness.get("/nowhere")
            #expect(missing == 404, "unknown paths are the worker's to answer")
        }
    }

    @Test func streamsEachEventAsSoonAsTheWorkerSendsIt() async throws {
        try await FrontHarness.run { harness in
            let received = Locked<[String]>([])
            let reader = Task {
                let response = try await harness.client.execute(HTTPClientRequest(url: harness.baseURL + "/v1/stream"), timeout: .seconds(10))
                #expect(response.status.code == 200)
                #expect(response.headers.first(name: "content-type") == "text/event-stream")
                for try await chunk in response.body {
                    received.withLock { $0.append(String(buffer: chunk)) }
                }
            }
            // The worker holds the second event until the gate opens, which happens only after
            // the first event has reached this client: a buffering proxy would never get here.
            try await waitUntil { received.withLock { !$0.isEmpty } }
            #expect(received.withLock { $0 } == ["data: one\n\n"])
            harness.worker(0).open()
            try await reader.value
            #expect(received.withLock { $0.joined() } == "data: one\n\ndata: two\n\n")
        }
    }

    @Test func balancesByOutstandingRequests() async throws {
        try await FrontHarness.run(workers: ["w1", "w2"]) { harness in
            try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<6 {
                    group.addTask { try await harness.get("/v1/hold").body }
                }
                try await waitUntil { harness.worker(0).requests.withLock { $0 } + harness.worker(1).requests.withLock { $0 } == 6 }
                #expect(harness.worker(0).requests.withLock { $0 } == 3)
                #expect(harness.worker(1).requests.withLock { $0 } == 3)
                harness.worker(0).open()
                harness.worker(1).open()
                var names: [String] = []
                for try await name in group { names.append(name) }
                #expect(names.sorted() == ["w1", "w1", "w1", "w2", "w2", "w2"])
            }
        }
    }

    @Test func skipsAnUnhealthyWorker() async throws {
        try await FrontHarness.run(workers: ["w1", "w2"]) { harness in
            harness.worker(1).healthy.withLock { $0 = false }
            try await waitUntil { harness.front.pool.readiness.ready == 1 }
            for _ in 0..<4 {
                #expect(try await harness.get("/v1/whoami").body == "w1")
            }
        }
    }

    @Test func refusesBodiesOverTheLimit() async throws {
        try await FrontHarness.run(configure: { $0.maximumBodyBytes = 1024 }) { harness in
            var declared = HTTPClientRequest(url: harness.baseURL + "/v1/echo")
            declared.method = .POST
            declared.body = .bytes(ByteBuffer(repeating: 0x61, count: 2000))
            let (status, body, _) = try await harness.send(declared)
            #expect(status == 413)
            #expect(body.contains(#""message":"The request body exceeds the limit of 1024 bytes""#))
            #expect(body.contains(#""code":"request_too_large""#), "OpenAI's shape, with the worker's code")
            #expect(harness.worker(0).requests.withLock { $0 } == 0, "a declared oversize body never reaches a worker")

            var anthropic = HTTPClientRequest(url: harness.baseURL + "/v1/messages")
            anthropic.method = .POST
            anthropic.body = .bytes(ByteBuffer(repeating: 0x61, count: 2000))
            let refused = try await harness.send(anthropic)
            #expect(refused.status == 413)
            #expect(refused.body.hasPrefix(#"{"type":"error","error":{"#), "Anthropic's shape under /v1/messages: \(refused.body)")
            #expect(refused.body.contains(#""type":"request_too_large""#))

            var chunked = HTTPClientRequest(url: harness.baseURL + "/v1/echo")
            chunked.method = .POST
            let parts = (0..<4).map { _ in ByteBuffer(repeating: 0x62, count: 600) }
            chunked.body = .stream(parts.async, length: .unknown)
            let streamed = try await harness.send(chunked)
            #expect(streamed.status == 413)

            var small = HTTPClientRequest(url: harness.baseURL + "/v1/echo")
            small.method = .POST
            small.body = .bytes(ByteBuffer(repeating: 0x63, count: 1024))
            #expect(try await harness.send(small).status == 200)
        }
    }

    @Test func answers504WhenTheWorkerIsTooSlow() async throws {
        try await FrontHarness.run(configure: { $0.requestTimeout = .milliseconds(300) }) { harness in
            let (status, body, _) = try await harness.get("/v1/hold")
            #expect(status == 504)
            // The client would give up after its own 10 s; a 504 means tls-front's timeout fired.
            #expect(body.contains("did not answer"))
        }
    }

    @Test func clientDisconnectCancelsTheUpstreamRequest() async throws {
        try await FrontHarness.run { harness in
            let script = harness.worker(0)
            let chunks = Locked(0)
            let reader = Task {
                let response = try await harness.client.execute(HTTPClientRequest(url: harness.baseURL + "/v1/ticks"), timeout: .seconds(10))
                for try await _ in response.body { chunks.withLock { $0 += 1 } }
            }
            try await waitUntil { chunks.withLock { $0 } >= 2 }
            reader.cancel()
            _ = try? await reader.value
            let aborted = try await withTimeout(.seconds(5)) { () async -> Bool in
                for await _ in script.aborted { return true }
                return false
            }
            #expect(aborted == true, "the worker's stream must end when the client goes away")
        }
    }

    @Test func workerSetChangesAtRunTimeThroughTheControlSocket() async throws {
        try await FrontHarness.run(workers: ["w1", "w2"]) { harness in
            let w2 = try harness.workers[1].endpoint
            #expect(try await harness.control("workers \(w2)").hasPrefix("ok workers-ready=1 workers-total=1"))
            for _ in 0..<4 {
                #expect(try await harness.get("/v1/whoami").body == "w2")
            }
            let status = try await harness.control("status")
            #expect(status.contains("certificate-sha256=\(harness.front.certificate.fingerprint)"))
            #expect(status.contains("listen=tcp://127.0.0.1:\(harness.port)"))
            #expect(try await harness.control("workers vsock://3:5000").hasPrefix("error"))
            #expect(try await harness.control("reboot").hasPrefix("error unknown command"))
        }
    }

    @Test func removingAWorkerWaitsForItsInFlightRequests() async throws {
        try await FrontHarness.run(workers: ["w1"]) { harness in
            let held = Task { try await harness.get("/v1/hold") }
            try await waitUntil { harness.worker(0).requests.withLock { $0 } == 1 }
            let switched = Task { try await harness.control("workers ") }
            try await Task.sleep(for: .milliseconds(200))
            #expect(harness.front.pool.outstandingOnRemoved == 1)
            harness.worker(0).open()
            #expect(try await held.value.status == 200)
            #expect(try await switched.value.hasPrefix("ok workers-ready=0 workers-total=0"))
            #expect(try await harness.get("/v1/whoami").status == 503)
        }
    }
}

/// Polls `condition` every 20 ms for up to 10 s.
func waitUntil(_ condition: @Sendable () -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(10)
    while !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("condition not met within 10 s")
            return
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}

struct TimedOut: Error {}

func withTimeout<T: Sendable>(_ timeout: Duration, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        guard let first = try await group.next(), let value = first else {
            group.cancelAll()
            throw TimedOut()
        }
        group.cancelAll()
        return value
    }
}

extension Array where Element: Sendable {
    /// The elements as an async sequence, for streamed request bodies of unknown length.
    var async: AsyncStream<Element> {
        AsyncStream { continuation in
            for element in self { continuation.yield(element) }
            continuation.finish()
        }
    }
}
