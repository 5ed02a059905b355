import AsyncHTTPClient
import Foundation
import GatewayCore
import NIOCore
import NIOSSL
import Synchronization

// Client-side tools for the runtime tests: an HTTPS client that trusts exactly the appliance's
// certificate, a verifier that re-derives every signed answer from what was sent and received,
// a load generator built on both, and a parser for `supervisor ctl status`.

// MARK: - HTTPS client

/// One HTTP answer, body collected (a stream's body is the raw SSE text).
struct HTTPAnswer: Sendable {
    let status: UInt
    let body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// An AsyncHTTPClient that trusts only the certificate tls-front wrote (`DIR/tls-cert.pem`),
/// not the system roots: the tests can reach nothing but the appliance they started.
final class ApplianceClient: Sendable {
    let url: String
    private let http: HTTPClient

    private init(url: String, certificatePath: String) throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(certificatePath))
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.httpVersion = .http1Only
        configuration.timeout.connect = .seconds(5)
        configuration.redirectConfiguration = .disallow
        self.url = url
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// A client for `url` that is always shut down, whether `body` returns or throws.
    static func with<T>(
        url: String, certificatePath: String, _ body: (ApplianceClient) async throws -> T
    ) async throws -> T {
        let client = try ApplianceClient(url: url, certificatePath: certificatePath)
        do {
            let result = try await body(client)
            try await client.http.shutdown()
            return result
        } catch {
            try? await client.http.shutdown()
            throw error
        }
    }

    /// Sends one request and collects the answer. `onFirstBytes` runs when the first body bytes
    /// arrive (for a stream: the worker is generating). Bounded by `limit`, so a stalled
    /// answer fails the test instead of hanging it.
    /// A POST with `json` as the body, else a GET.
    func send(
        _ path: String, json: String? = nil, limit: Duration = .seconds(60),
        onFirstBytes: @escaping @Sendable () -> Void = {}
    ) async throws -> HTTPAnswer {
        var request = HTTPClientRequest(url: url + path)
        let method = json == nil ? "GET" : "POST"
        if let json {
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        }
        let http = http
        return try await withDeadline(limit, "\(method) \(path)") { [request] in
            let response = try await http.execute(request, timeout: .seconds(Int64(limit.components.seconds) + 5))
            var body: [UInt8] = []
            for try await chunk in response.body {
                if body.isEmpty, chunk.readableBytes > 0 { onFirstBytes() }
                body += chunk.readableBytesView
            }
            return HTTPAnswer(status: response.status.code, body: body)
        }
    }

    /// The verifying key `/signing-key` publishes.
    func signingKey() async throws -> InferenceVerifyingKey {
        let answer = try await send("/signing-key")
        guard answer.status == 200, let pem = try JSONParser().parse(answer.body)["public_key"]?.stringValue else {
            throw HarnessError("GET /signing-key: \(answer.status) \(answer.text.prefix(300))")
        }
        return try InferenceVerifyingKey(pem: pem)
    }
}

/// Runs `body`, failing with a message naming `what` if it has not finished within `limit`.
func withDeadline<T: Sendable>(
    _ limit: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw HarnessError("\(what): no answer within \(limit) (hung)")
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw HarnessError("\(what): no result") }
        return first
    }
}

/// Runs blocking work (a child process, `supervisor ctl`) on a Dispatch thread, so it does not
/// occupy one of the few cooperative-pool threads the load generator needs.
func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
    }
}

/// State shared with escaping closures (a `Mutex` itself cannot be captured by them).
final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    func withLock<Result: Sendable>(_ body: (inout Value) -> Result) -> Result {
        mutex.withLock { value in body(&value) }
    }

    var value: Value { withLock { $0 } }
}

// MARK: - Chat requests the local model answers deterministically

/// A chat request body and what the built-in `local` model must answer to it.
struct ChatProbe: Sendable {
    enum Kind: String, Sendable, CaseIterable {
        case text, streamedText, toolCall, streamedToolCall
        var streamed: Bool { self == .streamedText || self == .streamedToolCall }
    }

    let kind: Kind
    let prompt: String
    let json: String

    static let toolName = "get_weather"

    /// `words` filler words make the answer that many tokens longer (a slower stream).
    init(_ kind: Kind, tag: String, words: Int) {
        self.kind = kind
        let filler = (0..<words).map { "w\($0)" }.joined(separator: " ")
        switch kind {
        case .text, .streamedText:
            prompt = "probe \(tag) \(filler)"
        case .toolCall, .streamedToolCall:
            prompt = "probe \(tag) please call \(Self.toolName) for Paris \(filler)"
        }
        var fields = [
            #""model":"local""#,
            #""messages":[{"role":"system","content":"runtime test"},{"role":"user","content":"\#(prompt)"}]"#,
            #""temperature":0.25"#,
        ]
        if kind == .toolCall || kind == .streamedToolCall {
            fields.append(
                #""tools":[{"type":"function","function":{"name":"\#(Self.toolName)","#
                    + #""parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]"#
            )
        }
        if kind.streamed { fields.append(#""stream":true"#) }
        json = "{" + fields.joined(separator: ",") + "}"
    }

    var expectedText: String? {
        switch kind {
        case .text, .streamedText: "You said: " + prompt
        case .toolCall, .streamedToolCall: nil
        }
    }
}

// MARK: - Verifying signed answers

/// What one verified answer established.
struct VerifiedAnswer: Sendable {
    let teeID: String
    let answer: CompletionAccumulator
}

/// Re-derives a signed answer from scratch: the request hash from the body that was sent
/// (GatewayCore's canonicalizer), the output hash from the answer that came back (text, or the
/// tool calls, folded as a verifier would), the RSA-PSS signature with the key `/signing-key`
/// published. For a stream it also checks the SSE framing: the signature in the final chunk,
/// then `data: [DONE]`, nothing after it.
struct AnswerVerifier: Sendable {
    let key: InferenceVerifyingKey

    func verify(_ probe: ChatProbe, _ response: HTTPAnswer) throws -> VerifiedAnswer {
        guard response.status == 200 else {
            throw HarnessError("HTTP \(response.status): \(response.text.prefix(300))")
        }
        var answer = CompletionAccumulator()
        let signed: JSONValue
        if probe.kind.streamed {
            signed = try Self.foldStream(response.text, into: &answer)
        } else {
            let body = try JSONParser().parse(response.body)
            guard let message = body["choices"]?.arrayValue?.first?["message"] else {
                throw HarnessError("no choices[0].message in \(response.text.prefix(300))")
            }
            Self.fold(message, into: &answer)
            signed = body
        }
        let signature = try TEESignature(response: signed)
        let requestHash = try CanonicalRequest(kind: .chat, body: try JSONParser().parse(probe.json)).hash
        guard signature.requestHash == requestHash else {
            throw HarnessError("tee_request_hash \(signature.requestHash.hex) but the request hashes to \(requestHash.hex)")
        }
        guard signature.outputHash == answer.outputHash else {
            throw HarnessError("tee_output_hash \(signature.outputHash.hex) but the answer hashes to \(answer.outputHash.hex)")
        }
        let check = key.verify(signature)
        guard check == .valid else { throw HarnessError("\(check)") }
        if let expected = probe.expectedText, answer.text != expected {
            throw HarnessError("answer '\(answer.text.prefix(80))…' is not the local model's '\(expected.prefix(80))…'")
        }
        if probe.expectedText == nil, answer.toolCalls.map(\.name) != [ChatProbe.toolName] {
            throw HarnessError("expected one \(ChatProbe.toolName) call, got \(answer.toolCalls.map(\.name))")
        }
        return VerifiedAnswer(teeID: signature.teeID.description, answer: answer)
    }

    /// A message or delta: its text and tool calls (whole or as indexed fragments).
    private static func fold(_ message: JSONValue, into answer: inout CompletionAccumulator) {
        if let text = message["content"]?.stringValue { answer.add(.text(text)) }
        for (position, call) in (message["tool_calls"]?.arrayValue ?? []).enumerated() {
            answer.add(.toolCall(
                index: call["index"]?.numberValue?.intValue ?? position, id: call["id"]?.stringValue,
                name: call["function"]?["name"]?.stringValue, arguments: call["function"]?["arguments"]?.stringValue ?? ""
            ))
        }
    }

    /// Folds every delta; returns the chunk that carries the signature, which must be the last
    /// one before `data: [DONE]`, which must end the stream.
    private static func foldStream(_ text: String, into answer: inout CompletionAccumulator) throws -> JSONValue {
        let events = text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
        let data = try events.map { event in
            guard event.hasPrefix("data: ") else { throw HarnessError("SSE event is not a data event: \(event.prefix(200))") }
            return String(event.dropFirst("data: ".count))
        }
        guard data.last == "[DONE]" else {
            throw HarnessError("stream does not end with data: [DONE] (\(data.count) events; last: \(data.last?.prefix(200) ?? "none"))")
        }
        guard data.count >= 2 else { throw HarnessError("stream has no chunk before [DONE]") }
        var signed: JSONValue?
        for (index, payload) in data.dropLast().enumerated() {
            let chunk = try JSONParser().parse(payload)
            if chunk["error"] != nil { throw HarnessError("error event in stream: \(payload.prefix(300))") }
            if chunk["tee_signature"] != nil {
                guard index == data.count - 2 else { throw HarnessError("signed chunk \(index) is not the final chunk") }
                signed = chunk
            }
            if let delta = chunk["choices"]?.arrayValue?.first?["delta"] { fold(delta, into: &answer) }
        }
        guard let signed else { throw HarnessError("no chunk carries tee_signature") }
        return signed
    }
}

// MARK: - Load generator

/// Keeps `clients` request loops busy with a mix of streamed and non-streamed chat requests
/// (text and tool calls) until `stop()`, verifying every answer. Failures are collected, not
/// thrown, so a test sees all of them and the counts of what passed.
final class LoadGenerator: Sendable {
    struct Failure: Sendable, CustomStringConvertible {
        /// When the request was sent.
        let started: ContinuousClock.Instant
        let description: String
    }

    struct Report: Sendable {
        var verified: [ChatProbe.Kind: Int] = [:]
        var failures: [Failure] = []
        var teeIDs: Set<String> = []
        var total: Int { verified.values.reduce(0, +) + failures.count }
        var summary: String {
            ChatProbe.Kind.allCases.map { "\($0.rawValue)=\(verified[$0, default: 0])" }.joined(separator: " ")
                + " failed=\(failures.count)"
        }
    }

    private struct State {
        var report = Report()
        var stopped = false
        var streamsGenerating = 0
    }

    private let client: ApplianceClient
    private let verifier: AnswerVerifier
    private let state = Mutex(State())

    init(client: ApplianceClient, verifier: AnswerVerifier) {
        self.client = client
        self.verifier = verifier
    }

    var report: Report { state.withLock { $0.report } }
    /// Streams whose first bytes arrived and which have not finished.
    var streamsGenerating: Int { state.withLock { $0.streamsGenerating } }

    func stop() { state.withLock { $0.stopped = true } }

    /// Runs the loops until `stop()`; each loop finishes its current request first.
    func run(clients: Int) async {
        await withTaskGroup(of: Void.self) { group in
            for loop in 0..<clients {
                group.addTask { await self.loop(loop) }
            }
        }
    }

    private func loop(_ loop: Int) async {
        var number = 0
        while !state.withLock({ $0.stopped }) {
            let kinds = ChatProbe.Kind.allCases
            let kind = kinds[(loop + number) % kinds.count]
            // 5, 25 or 45 filler words: with a token delay, streams overlap the operations.
            let probe = ChatProbe(kind, tag: "c\(loop)r\(number)", words: 5 + 20 * ((loop + number) % 3))
            number += 1
            _ = await perform(probe)
        }
    }

    /// Sends and verifies one probe, recording the outcome. `onGenerating` runs when a
    /// stream's first bytes arrive.
    @discardableResult
    func perform(_ probe: ChatProbe, onGenerating: @escaping @Sendable () -> Void = {}) async -> VerifiedAnswer? {
        let sent = ContinuousClock.now
        let started = Shared(false)
        defer {
            if started.value { state.withLock { $0.streamsGenerating -= 1 } }
        }
        do {
            let response = try await client.send("/v1/chat/completions", json: probe.json) { [self] in
                guard probe.kind.streamed else { return }
                started.withLock { $0 = true }
                state.withLock { $0.streamsGenerating += 1 }
                onGenerating()
            }
            let verified = try verifier.verify(probe, response)
            state.withLock {
                $0.report.verified[probe.kind, default: 0] += 1
                $0.report.teeIDs.insert(verified.teeID)
            }
            return verified
        } catch {
            let failure = Failure(started: sent, description: "\(probe.kind.rawValue) '\(probe.prompt.prefix(24))': \(error)")
            state.withLock { $0.report.failures.append(failure) }
            return nil
        }
    }

    /// Waits until at least `count` streams are generating (the workers are mid-answer).
    func waitForStreamsGenerating(_ count: Int, limit: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + limit
        while streamsGenerating < count {
            guard ContinuousClock.now < deadline else { throw HarnessError("fewer than \(count) streams running after \(limit)") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Waits until `count` more requests have completed than now (passed or failed).
    func waitForMoreRequests(_ count: Int, limit: Duration = .seconds(60)) async throws {
        let target = report.total + count
        let deadline = ContinuousClock.now + limit
        while report.total < target {
            guard ContinuousClock.now < deadline else { throw HarnessError("fewer than \(count) requests completed in \(limit)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

// MARK: - `supervisor ctl status`

/// `supervisor ctl status` parsed: after the `appliance …` line, one line per child,
/// `NAME pid=PID|pid=- STATE restarts=N [routed|not-routed]` (see `Supervisor.status()`).
struct ApplianceStatus: Sendable, CustomStringConvertible {
    struct Child: Sendable, Equatable {
        let name: String
        let pid: Int32?
        let state: String
        let restarts: Int
        /// Workers only: whether tls-front routes to it.
        let routed: Bool?
    }

    let summary: String
    let children: [Child]
    let description: String

    init(parsing text: String) throws {
        let lines = text.split(separator: "\n").map(String.init)
        guard let first = lines.first, first.hasPrefix("appliance ") else {
            throw HarnessError("ctl status: no 'appliance …' line in:\n\(text)")
        }
        summary = first
        description = text
        children = try lines.dropFirst().map { line in
            let words = line.split(separator: " ").map(String.init)
            guard words.count >= 4, words[1].hasPrefix("pid="), words[3].hasPrefix("restarts="),
                  let restarts = Int(words[3].dropFirst("restarts=".count))
            else { throw HarnessError("ctl status: unexpected line '\(line)'") }
            let pidText = words[1].dropFirst("pid=".count)
            return Child(
                name: words[0], pid: pidText == "-" ? nil : Int32(pidText), state: words[2], restarts: restarts,
                routed: words.count > 4 ? words[4] == "routed" : nil
            )
        }
    }

    subscript(name: String) -> Child? { children.first { $0.name == name } }
    var workers: [Child] { children.filter { $0.name.hasPrefix("worker-") } }
}

extension ApplianceHarness {
    /// `supervisor ctl WORDS…`, run off the cooperative pool; throws unless it exits 0.
    func control(_ words: String...) async throws -> String { try await control(words) }

    func control(_ words: [String]) async throws -> String {
        let directory = runtimeDirectory
        let result = try await offThePool { try supervisorControl(words, runtimeDirectory: directory) }
        guard result.status == 0 else {
            throw HarnessError("supervisor ctl \(words.joined(separator: " ")) exited \(result.status): \(result.stderr)")
        }
        return result.stdout
    }

    func status() async throws -> ApplianceStatus { try ApplianceStatus(parsing: try await control("status")) }

    /// Polls `ctl status` until `condition` holds (e.g. a restarted child is ready again).
    func waitForStatus(
        limit: Duration = .seconds(60), _ what: String, _ condition: (ApplianceStatus) -> Bool
    ) async throws -> ApplianceStatus {
        let deadline = ContinuousClock.now + limit
        var last = try await status()
        while !condition(last) {
            guard ContinuousClock.now < deadline else { throw HarnessError("\(what) not reached in \(limit); status:\n\(last)") }
            try await Task.sleep(for: .milliseconds(100))
            last = try await status()
        }
        return last
    }

    /// An HTTPS client for this appliance (trusting exactly its current certificate).
    func withClient<T>(_ body: (ApplianceClient) async throws -> T) async throws -> T {
        try await ApplianceClient.with(url: url, certificatePath: certificatePath, body)
    }
}

/// `supervisor ctl` with the pointer file of the appliance in `runtimeDirectory` (a free
/// function: inside `ApplianceHarness`, `run` names the harness's static method).
private func supervisorControl(_ words: [String], runtimeDirectory: String) throws -> CommandResult {
    try run(executable("supervisor"), ["ctl"] + words, environment: ["XDG_RUNTIME_DIR": runtimeDirectory])
}
