import Foundation
import GatewayCore
import KeyServiceKit
import OHTTP
import Providers
import Testing

/// The unsigned routes a worker serves from the identity it fetched from key-service.
@Suite("worker identity routes")
struct IdentityRouteTests {
    @Test("/health is 503 and inference refused until key-service answers, then 200 with its tee_id")
    func healthFollowsTheIdentity() async throws {
        try await withTemporaryDirectory { directory in
            let keyPath = directory + "/key.sock"
            try await withRunningWorker(
                keyServicePath: keyPath, socketPath: directory + "/worker.sock", logs: LogCapture()
            ) {
                client in
                let starting = try await client.send(.GET, "/health")
                #expect(starting.status == 503)
                #expect(try starting.json["status"] as? String == "starting")

                let early = try await client.send(
                    .POST, "/v1/chat/completions",
                    body: .json(#"{"model":"local","messages":[{"role":"user","content":"hi"}]}"#))
                #expect(early.status == 503)
                #expect(early.header("retry-after") == "1")
                #expect(try early.json["error"] as? [String: Any] != nil)
                #expect(try await client.send(.GET, "/signing-key").status == 503)

                try await withKeyService(at: keyPath) { service in
                    let fixture = WorkerFixture(client: client, keyService: service, logs: LogCapture())
                    let ready = try await fixture.waitUntilReady()
                    let expected = try await service.publicKey().teeID.description
                    #expect(try ready.json["status"] as? String == "ok")
                    #expect(try ready.json["tee_id"] as? String == expected)
                }
            }
        }
    }

    @Test("/signing-key publishes the PEM whose keccak(SPKI) is the tee_id, and the OHTTP configs")
    func signingKey() async throws {
        try await withWorker { worker in
            let health = try await worker.client.send(.GET, "/health")
            let teeID = try #require(try health.json["tee_id"] as? String)
            let reply = try await worker.client.send(.GET, "/signing-key")
            #expect(reply.status == 200)
            #expect(reply.header("content-type") == "application/json")
            let body = try reply.json
            let pem = try #require(body["public_key"] as? String)
            #expect(pem.hasPrefix("-----BEGIN PUBLIC KEY-----"))

            // keccak over the DER inside the PEM, decoded here rather than by the gateway's key type.
            let base64 = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
            let der = try #require(Data(base64Encoded: base64))
            #expect("0x" + Keccak256.hash(Array(der)).hex == teeID)
            #expect(body["tee_id"] as? String == teeID)
            #expect(try InferenceVerifyingKey(pem: pem).teeID.description == teeID)
            #expect(try await worker.keyService.publicKey().teeID.description == teeID)

            let ohttp = try #require(body["ohttp"] as? [String: Any])
            #expect(!ohttp.isEmpty)
            let config = try await worker.client.send(.GET, "/v1/ohttp/config")
            #expect(config.status == 200)
            #expect(NSDictionary(dictionary: try config.json).isEqual(to: ohttp))
        }
    }

    @Test("/v1/models lists local and the registry's known ids in OpenAI's list shape")
    func models() async throws {
        try await withWorker { worker in
            let reply = try await worker.client.send(.GET, "/v1/models")
            #expect(reply.status == 200)
            let body = try reply.json
            #expect(body["object"] as? String == "list")
            let data = try #require(body["data"] as? [[String: Any]])
            let ids = data.compactMap { $0["id"] as? String }
            #expect(ids.count == data.count)
            for known in ["local", "gpt-4.1", "claude-sonnet-4-6", "gemini-2.5-flash", "grok-4"] {
                #expect(ids.contains(known), "\(known) missing from /v1/models")
            }
            #expect(Set(ids) == Set(ModelRegistry().modelIDs))
            let local = try #require(data.first { $0["id"] as? String == "local" })
            #expect(local["object"] as? String == "model")
            #expect(local["owned_by"] as? String == "local")
            #expect(data.first { $0["id"] as? String == "gpt-4.1" }?["owned_by"] as? String == "openai")
        }
    }

    @Test("/.well-known/ohttp-gateway serves key-service's configs as application/ohttp-keys")
    func ohttpGateway() async throws {
        try await withWorker { worker in
            let reply = try await worker.client.send(.GET, "/.well-known/ohttp-gateway")
            #expect(reply.status == 200)
            #expect(reply.header("content-type") == "application/ohttp-keys")
            let served = try KeyConfig.decodeList(reply.body)
            let expected = try await worker.keyService.ohttpConfigs().map { try KeyConfig(decoding: $0.keyConfig) }
            #expect(served.map(\.keyID) == expected.map(\.keyID))
            #expect(served == expected)
        }
    }
}
