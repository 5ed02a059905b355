import Foundation
import GatewayCore
import NIOHTTP1
import OHTTP
import Testing
import UpstreamMock

/// `POST /v1/ohttp` on a worker with a real key service: what only an in-process test can see
/// (cancellation of the provider call, logs); the wire formats are checked end to end against
/// an independent Python client in `ApplianceTests/ObliviousHTTPTests`.
@Suite("the OHTTP gateway route")
struct ObliviousGatewayTests {
    static let prompt = "an oblivious prompt 9042"

    func x25519Config(_ worker: WorkerFixture) async throws -> KeyConfig {
        let configs = try await worker.keyService.ohttpConfigs()
        return try KeyConfig(decoding: try #require(configs.first { $0.kemID == 0x0020 }).keyConfig)
    }

    @Test("a sealed stream is one chunk per event; leaving mid-stream cancels the provider; no log holds the prompt")
    func streamCancellationAndLogs() async throws {
        let reply = MockUpstream.Reply.sse(
            [OpenAIWire.chunk(#"{"role":"assistant","content":"Hello"}"#)],
            then: [.awaitRelease, .bytes(OpenAIWire.chunk(#"{"content":" world"}"#)), .hang])
        try await withUpstreamWorker([reply]) { worker, mock in
            let body = #"{"model":"gpt-4.1","messages":[{"role":"user","content":"\#(Self.prompt)"}],"stream":true}"#
            let sealed = try OHTTPClient.encapsulate(request: Array(body.utf8), config: try await x25519Config(worker))
            let opened = try await worker.client.exchange(
                .POST, "/v1/ohttp", body: .bytes(sealed.bytes), contentType: OHTTPMediaType.request
            ) { head, parts in
                #expect(head.status == .ok)
                #expect(head.headers.first(name: "content-type") == OHTTPMediaType.chunkedResponse)
                var opener = ChunkedResponseOpener(context: sealed.responseContext)
                var events: [String] = []
                while !events.joined().contains("Hello"), let part = try await parts.next() {
                    if case .body(let buffer) = part {
                        events += try opener.feed(buffer.readableBytesView).map { String(decoding: $0, as: UTF8.self) }
                    }
                }
                return events
            }
            #expect(opened.allSatisfy { $0.hasSuffix("\n\n") && $0.components(separatedBy: "\n\n").count == 2 })
            mock.release()
            #expect(await mock.waitForClientClose(), "the upstream connection stayed open after the client left")
            #expect(!worker.logs.all.contains { $0.contains(Self.prompt) || $0.contains("Hello") })
        }
    }

    @Test("refusals before decryption are constant bodies; an unknown key id is a 422 problem")
    func refusals() async throws {
        try await withWorker { worker in
            let config = try await x25519Config(worker)
            var tampered = try OHTTPClient.encapsulate(request: [1, 2, 3], config: config).bytes
            tampered[tampered.count - 1] ^= 1
            let truncated = Array(try OHTTPClient.encapsulate(request: [1, 2, 3], config: config).bytes.prefix(20))
            var bodies: [[UInt8]] = []
            for bytes in [tampered, truncated, []] {
                let reply = try await worker.client.send(.POST, "/v1/ohttp", body: .bytes(bytes), contentType: OHTTPMediaType.request)
                #expect(reply.status == 400)
                bodies.append(reply.body)
            }
            #expect(Set(bodies).count == 1)
            let used = Set(try await worker.keyService.ohttpConfigs().map(\.keyID))
            var stale = tampered
            stale[0] = try #require((UInt8.min...UInt8.max).first { !used.contains($0) })
            let unknown = try await worker.client.send(.POST, "/v1/ohttp", body: .bytes(stale), contentType: OHTTPMediaType.request)
            #expect(unknown.status == 422)
            #expect(unknown.header("content-type") == "application/problem+json")
            let json = try await worker.client.send(.POST, "/v1/ohttp", body: .bytes(tampered), contentType: "application/json")
            #expect(json.status == 415)
            let large = try await worker.client.send(
                .POST, "/v1/ohttp", body: .chunked([[UInt8]](repeating: [UInt8](repeating: 0, count: 65_536), count: 9)),
                contentType: OHTTPMediaType.request)
            #expect(large.status == 413)
        }
    }
}
