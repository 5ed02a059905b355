import Foundation
import GatewayCore
import NIOCore
import Testing

@testable import EnclaveIPC

@Suite("Key-service client and server over real sockets")
struct KeyServiceClientServerTests {
    /// Both transports the dev appliance uses: a Unix socket in a temp dir and TCP on loopback.
    enum Transport: String, CaseIterable {
        case unix
        case tcp
    }

    private func withEndpoint<T>(_ transport: Transport, _ body: (Endpoint) async throws -> T) async throws -> T {
        switch transport {
        case .unix:
            return try await withTemporaryDirectory { directory in
                try await body(try Endpoint.unix(path: directory + "/key-service.sock"))
            }
        case .tcp:
            return try await body(try Endpoint(parsing: "tcp://127.0.0.1:0"))
        }
    }

    private func client(
        _ endpoint: Endpoint,
        requestTimeout: Duration = .seconds(5)
    ) -> KeyServiceClient {
        KeyServiceClient(
            endpoint: endpoint,
            configuration: .init(requestTimeout: requestTimeout, minimumReconnectDelay: .milliseconds(10)),
            logger: quietLogger
        )
    }

    @Test("every operation round-trips through a real server", arguments: Transport.allCases)
    func everyOperation(transport: Transport) async throws {
        try await withEndpoint(transport) { endpoint in
            let handler = EchoHandler(teeID: try makeTEEID(0x42))
            try await withServer(endpoint, handler: handler) { server in
                try await withRunningClient(client(server.endpoint)) { keys in
                    let info = try await keys.publicKey()
                    #expect(info.teeID == handler.teeID)
                    #expect(info.spkiDER == handler.teeID.digest.bytes + [0x30])

                    let requestHash = try keccak(randomBytes(32))
                    let outputHash = try keccak([1] + randomBytes(31))
                    let signature = try await keys.signInference(requestHash: requestHash, outputHash: outputHash)
                    #expect(signature.signature == requestHash.bytes + outputHash.bytes)
                    #expect(signature.timestamp == UInt64(requestHash.bytes[0]))

                    #expect(try await keys.signRecord(.heartbeat(timestamp: 1234)).signature == Array("1234".utf8))
                    let configs = try await keys.ohttpConfigs()
                    #expect(configs.map(\.keyID) == [1, 2])
                    #expect(try await keys.signRecord(.ohttpConfig(configs[0])).signature == configs[0].publicKey)

                    let nonce = try AttestationNonce(randomBytes(40))
                    #expect(try await keys.attest(nonce: nonce) == nonce.bytes.reversed())

                    let opened = try await keys.ohttpOpen(encapsulatedRequest: [1] + Array("prompt".utf8))
                    #expect(opened.plaintext == Array("prompt".utf8))
                    #expect(opened.responseSecret.count == 32)

                    #expect(try await keys.providerSecrets().apiKeys == ["openai": "sk-test", "anthropic": "sk-ant-test"])
                    #expect(try await keys.injectSecrets(envelope: Array("openai,xai".utf8)).providers == ["openai", "xai"])
                    try await keys.registerTLSCertificate(sha256: try digest(0x77).bytes)
                    #expect(try await keys.health().uptimeSeconds == 42)
                    #expect(try await keys.ready())
                }
            }
        }
    }

    @Test(
        "handler errors arrive typed, with the code a front end turns into an HTTP status",
        arguments: [("unauthorized", 401), ("replay", 409), ("garbage", 400)]
    )
    func typedHandlerErrors(envelope: String, status: Int) async throws {
        try await withEndpoint(.unix) { endpoint in
            try await withServer(endpoint, handler: EchoHandler(teeID: try makeTEEID(1))) { server in
                try await withRunningClient(client(server.endpoint)) { keys in
                    let result = await outcome { () async throws(KeyServiceClientError) in
                        try await keys.injectSecrets(envelope: Array(envelope.utf8))
                    }
                    guard case .failure(.server(let refusal)) = result else {
                        Issue.record("expected a typed server error, got \(result)")
                        return
                    }
                    #expect(refusal.code.httpStatus == status)
                    #expect(!refusal.message.isEmpty)
                    await #expect(throws: KeyServiceClientError.server(KeyServiceError(.unknownKeyID, "unknown key id"))) {
                        try await keys.ohttpOpen(encapsulatedRequest: [9, 9])
                    }
                }
            }
        }
    }

    /// Sends `count` signInference requests at once; returns how many answers matched their request.
    private func signConcurrently(_ keys: KeyServiceClient, count: Int) async throws -> Int {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<count {
                group.addTask {
                    let requestHash = try keccak(randomBytes(32))
                    // outputHash[0] is the handler's delay in ms: answers come back out of order.
                    let outputHash = try keccak([UInt8.random(in: 5...30)] + randomBytes(31))
                    let signature = try await keys.signInference(requestHash: requestHash, outputHash: outputHash)
                    return signature.signature == requestHash.bytes + outputHash.bytes
                }
            }
            var matched = 0
            for try await ok in group where ok { matched += 1 }
            return matched
        }
    }

    @Test("many concurrent requests share one connection and each gets its own answer", arguments: Transport.allCases)
    func multiplexing(transport: Transport) async throws {
        try await withEndpoint(transport) { endpoint in
            let handler = EchoHandler(teeID: try makeTEEID(2))
            let matched = try await withServer(endpoint, handler: handler) { server in
                try await withRunningClient(client(server.endpoint)) { keys in try await signConcurrently(keys, count: 64) }
            }
            #expect(matched == 64)
            #expect(await handler.concurrency.maximum > 1)
        }
    }

    @Test("the server runs at most the configured number of requests per connection at once")
    func perConnectionLimit() async throws {
        try await withEndpoint(.unix) { endpoint in
            let handler = EchoHandler(teeID: try makeTEEID(2))
            let configuration = KeyServiceServer<EchoHandler>.Configuration(maximumConcurrentRequestsPerConnection: 3)
            let matched = try await withServer(endpoint, handler: handler, configuration: configuration) { server in
                try await withRunningClient(client(server.endpoint)) { keys in try await signConcurrently(keys, count: 24) }
            }
            #expect(matched == 24)
            #expect(await handler.concurrency.maximum == 3)
        }
    }

    @Test("a slow request times out, names the state, and the connection stays usable")
    func requestTimeout() async throws {
        try await withEndpoint(.unix) { endpoint in
            try await withServer(endpoint, handler: EchoHandler(teeID: try makeTEEID(3), healthDelay: .seconds(30))) { server in
                try await withRunningClient(client(server.endpoint, requestTimeout: .milliseconds(200))) { keys in
                    let result = await outcome { () async throws(KeyServiceClientError) in try await keys.health() }
                    guard case .failure(.timeout(.health, let after, let detail)) = result else {
                        Issue.record("expected a timeout, got \(result)")
                        return
                    }
                    #expect(after == .milliseconds(200))
                    #expect(detail.contains("connected to unix://"))
                    let info = try await keys.publicKey()
                    #expect(info.teeID == (try makeTEEID(3)))
                }
            }
        }
    }

    @Test("without a server, requests time out and report the connection error")
    func noServer() async throws {
        try await withTemporaryDirectory { directory in
            let keys = client(try Endpoint.unix(path: directory + "/absent.sock"), requestTimeout: .milliseconds(300))
            try await withRunningClient(keys) { keys in
                let result = await outcome { () async throws(KeyServiceClientError) in try await keys.ready() }
                guard case .failure(.timeout(.ready, _, let detail)) = result else {
                    Issue.record("expected a timeout, got \(result)")
                    return
                }
                #expect(detail.contains("not connected to unix://\(directory)/absent.sock; last error:"))
            }
        }
    }

    @Test("a request made before run() starts says so when it times out")
    func notStarted() async throws {
        let keys = client(try Endpoint(parsing: "tcp://127.0.0.1:9"), requestTimeout: .milliseconds(100))
        await #expect(throws: KeyServiceClientError.timeout(.ready, after: .milliseconds(100), detail: "KeyServiceClient.run() has not been started")) {
            try await keys.ready()
        }
    }

    @Test("a request made before the key service is up waits and goes out once it is")
    func queuedUntilServerStarts() async throws {
        try await withTemporaryDirectory { directory in
            let endpoint = try Endpoint.unix(path: directory + "/late.sock")
            let teeID = try await withRunningClient(client(endpoint)) { keys in
                try await withThrowingTaskGroup(of: TEEID?.self) { group -> TEEID? in
                    group.addTask { try await keys.publicKey().teeID }
                    try await Task.sleep(for: .milliseconds(200))
                    group.addTask {
                        try await withServer(endpoint, handler: EchoHandler(teeID: try makeTEEID(0xB2))) { _ in
                            try await Task.sleep(for: .seconds(30))
                        }
                        return nil
                    }
                    defer { group.cancelAll() }
                    for try await teeID in group {
                        if let teeID { return teeID }
                    }
                    return nil
                }
            }
            #expect(teeID == (try makeTEEID(0xB2)))
        }
    }

    @Test("the client reconnects after the key service restarts")
    func reconnect() async throws {
        try await withTemporaryDirectory { directory in
            let endpoint = try Endpoint.unix(path: directory + "/restart.sock")
            try await withRunningClient(client(endpoint)) { keys in
                let first = try await withServer(endpoint, handler: EchoHandler(teeID: try makeTEEID(0xA1))) { _ in
                    try await keys.publicKey().teeID
                }
                #expect(first == (try makeTEEID(0xA1)))

                let second = try await withServer(endpoint, handler: EchoHandler(teeID: try makeTEEID(0xB2))) { _ -> TEEID? in
                    // A request can still go out on the old connection before the client has read
                    // its EOF; that one fails with connectionLost (never resent), so ask again.
                    for _ in 1...5 {
                        let result = await outcome { () async throws(KeyServiceClientError) in try await keys.publicKey() }
                        switch result {
                        case .success(let info): return info.teeID
                        case .failure(.connectionLost): continue
                        case .failure(let error): throw error
                        }
                    }
                    return nil
                }
                #expect(second == (try makeTEEID(0xB2)))
            }
        }
    }

    @Test("a request in flight when the connection drops fails with connectionLost, not a retry")
    func connectionLost() async throws {
        try await withTemporaryDirectory { directory in
            let endpoint = try Endpoint.unix(path: directory + "/drop.sock")
            try await withRunningClient(client(endpoint)) { keys in
                let server = try await KeyServiceServer(
                    bindingTo: endpoint,
                    handler: EchoHandler(teeID: try makeTEEID(4), healthDelay: .seconds(30)),
                    policy: everyone,
                    logger: quietLogger
                )
                let result = try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await server.run() }
                    _ = try await keys.publicKey()
                    async let inFlight = outcome { () async throws(KeyServiceClientError) in try await keys.health() }
                    try await Task.sleep(for: .milliseconds(200))
                    group.cancelAll()  // the key service goes away while health() waits for its answer
                    return await inFlight
                }
                guard case .failure(.connectionLost(.health, let reason)) = result else {
                    Issue.record("expected connectionLost, got \(result)")
                    return
                }
                #expect(!reason.isEmpty)
            }
        }
    }

    @Test("after run() returns, calls fail with shutDown; run() twice is refused")
    func lifecycle() async throws {
        let keys = client(try Endpoint(parsing: "tcp://127.0.0.1:9"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await keys.run() }
            try await Task.sleep(for: .milliseconds(50))
            await #expect(throws: KeyServiceClientError.alreadyRunning) { try await keys.run() }
            group.cancelAll()
        }
        await #expect(throws: KeyServiceClientError.shutDown(.publicKey)) { try await keys.publicKey() }
        await #expect(throws: KeyServiceClientError.alreadyRunning) { try await keys.run() }
    }

    @Test("the server answers a malformed request under its id and keeps the connection")
    func malformedRequestOverSocket() async throws {
        try await withEndpoint(.tcp) { endpoint in
            try await withServer(endpoint, handler: EchoHandler(teeID: try makeTEEID(5))) { server in
                let connection = try await rawFramedConnection(to: server.endpoint)
                try await connection.executeThenClose { inbound, outbound in
                    var responses = inbound.makeAsyncIterator()

                    try await outbound.write(ByteBuffer(string: #"{"id":41,"type":"mintMoney"}"#))
                    let unknownType = try KeyServiceCodec.decodeResponse(try #require(try await responses.next()))
                    #expect(unknownType.id == 41)
                    #expect(unknownType.response == .failure(KeyServiceError(.malformed, "message 41: unknown message type 'mintMoney'")))

                    try await outbound.write(ByteBuffer(string: "certainly not json"))
                    let unreadable = try KeyServiceCodec.decodeResponse(try #require(try await responses.next()))
                    #expect(unreadable.id == 0)
                    guard case .failure(let error) = unreadable.response else {
                        Issue.record("expected an error response, got \(unreadable.response)")
                        return
                    }
                    #expect(error.code == .malformed)

                    try await outbound.write(try KeyServiceCodec.encode(.ready, id: 42))
                    let ready = try KeyServiceCodec.decodeResponse(try #require(try await responses.next()))
                    #expect(ready.id == 42 && ready.response == .ready(true))
                }
            }
        }
    }

    @Test("an oversized frame closes that connection; the server keeps serving others")
    func oversizedFrame() async throws {
        try await withEndpoint(.unix) { endpoint in
            let configuration = KeyServiceServer<EchoHandler>.Configuration(maximumFrameSize: 4096)
            try await withServer(endpoint, handler: EchoHandler(teeID: try makeTEEID(6)), configuration: configuration) { server in
                let connection = try await rawByteConnection(to: server.endpoint)
                try await connection.executeThenClose { inbound, outbound in
                    try await outbound.write(ByteBuffer(bytes: [0, 0, 0x10, 0x01] + randomBytes(64)))
                    var iterator = inbound.makeAsyncIterator()
                    let next = try? await iterator.next()
                    #expect(next == nil)  // closed without an answer
                }
                let ready = try await withRunningClient(client(server.endpoint)) { keys in try await keys.ready() }
                #expect(ready)
            }
        }
    }

    @Test("a request larger than the frame limit is refused by the client before sending")
    func oversizedRequest() async throws {
        try await withEndpoint(.unix) { endpoint in
            try await withServer(endpoint, handler: EchoHandler(teeID: try makeTEEID(7))) { server in
                let keys = KeyServiceClient(
                    endpoint: server.endpoint,
                    configuration: .init(maximumFrameSize: 1024),
                    logger: quietLogger
                )
                try await withRunningClient(keys) { keys in
                    let result = await outcome { () async throws(KeyServiceClientError) in
                        try await keys.ohttpOpen(encapsulatedRequest: randomBytes(2000))
                    }
                    guard case .failure(.invalidRequest(.ohttpOpen, let reason)) = result else {
                        Issue.record("expected invalidRequest, got \(result)")
                        return
                    }
                    #expect(reason.contains("frame limit is 1024"))
                    let ready = try await keys.ready()
                    #expect(ready)
                }
            }
        }
    }
}

@Suite("Key-service client against a misbehaving server")
struct MisbehavingServerTests {
    /// A fake key service that answers each request frame with `reply(id, request)`.
    private func withFakeServer<T: Sendable>(
        reply: @escaping @Sendable (UInt64, KeyServiceRequest) -> String,
        _ body: @Sendable (KeyServiceClient) async throws -> T
    ) async throws -> T {
        let listener = try await Endpoint(parsing: "tcp://127.0.0.1:0").bind { channel in
            channel.eventLoop.makeCompletedFuture { try Framing.wrap(channel) }
        }
        return try await listener.channel.executeThenClose { connections in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await withThrowingDiscardingTaskGroup { connectionTasks in
                        for try await connection in connections {
                            connectionTasks.addTask {
                                try await connection.executeThenClose { requests, responses in
                                    for try await frame in requests {
                                        let (id, request) = try KeyServiceCodec.decodeRequest(frame)
                                        try await responses.write(ByteBuffer(string: reply(id, request)))
                                    }
                                }
                            }
                        }
                    }
                }
                defer { group.cancelAll() }
                let keys = KeyServiceClient(
                    endpoint: listener.endpoint,
                    configuration: .init(requestTimeout: .seconds(5), minimumReconnectDelay: .milliseconds(10)),
                    logger: quietLogger
                )
                return try await withRunningClient(keys, body)
            }
        }
    }

    @Test("a success response of another operation is an invalidResponse, not a crash")
    func wrongResponseType() async throws {
        let result = try await withFakeServer(reply: { id, _ in #"{"id":\#(id),"type":"ready","ready":true}"# }) { keys in
            await outcome { () async throws(KeyServiceClientError) in try await keys.publicKey() }
        }
        #expect(result == .failure(.invalidResponse(.publicKey, reason: "expected a publicKey response, got ready")))
    }

    @Test("a response that breaks the schema fails only its own request")
    func malformedResponse() async throws {
        let result = try await withFakeServer(reply: { id, request in
            request == .ready ? #"{"id":\#(id),"type":"ready","ready":"maybe"}"# : #"{"id":\#(id),"type":"ready","ready":true}"#
        }) { keys in
            let broken = await outcome { () async throws(KeyServiceClientError) in try await keys.ready() }
            let healthy = await outcome { () async throws(KeyServiceClientError) in try await keys.ohttpConfigs() }
            return (broken, healthy)
        }
        #expect(result.0 == .failure(.invalidResponse(.ready, reason: "message \(1): field 'ready' must be true or false")))
        #expect(result.1 == .failure(.invalidResponse(.ohttpConfigs, reason: "expected a ohttpConfigs response, got ready")))
    }

    @Test("an id-0 error from the server drops the connection and fails what was sent, with the server's reason")
    func connectionLevelError() async throws {
        let result = try await withFakeServer(reply: { _, _ in
            #"{"id":0,"type":"error","code":"malformed","message":"frame was not JSON"}"#
        }) { keys in
            await outcome { () async throws(KeyServiceClientError) in try await keys.health() }
        }
        guard case .failure(.connectionLost(.health, let reason)) = result else {
            Issue.record("expected connectionLost, got \(result)")
            return
        }
        #expect(reason.contains("frame was not JSON"))
    }
}
