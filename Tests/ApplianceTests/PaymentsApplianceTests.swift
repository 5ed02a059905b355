import Foundation
import Providers
import Testing

/// x402 end to end (docs/payments.md): a dev appliance with `--x402`, a mock facilitator and a
/// mock OpenAI upstream (`Clients/mock_x402.py`, which checks EIP-712 signatures with
/// eth-account), and payments made by the official `x402` Python client (`Clients/x402_pay.py`).
@Suite(.serialized) struct PaymentsApplianceTests {
    static let payTo = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"
    static let asset = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"
    /// gpt-4.1: 2 units per input token, 8 per output token.
    static let inputPerMillion = 2_000_000, outputPerMillion = 8_000_000
    static let sessionCap = 100_000

    static func configuration(facilitatorPort: Int, idleSeconds: Int) -> [String: Any] {
        var prices: [String: Any] = [:]
        for id in ModelRegistry().modelIDs { prices[id] = ["input_per_million": 1_000_000, "output_per_million": 1_000_000] }
        prices["gpt-4.1"] = ["input_per_million": inputPerMillion, "output_per_million": outputPerMillion]
        return [
            "pay_to": payTo, "network": "eip155:8453", "asset": asset, "asset_decimals": 6, "asset_name": "USD Coin", "asset_version": "2",
            "facilitator_url": "http://127.0.0.1:\(facilitatorPort)", "schemes": ["exact", "upto"], "session_cap": String(sessionCap),
            "session_idle_seconds": idleSeconds, "prices": prices,
        ]
    }

    @Test func malformedConfigurationRefusesTheStart() throws {
        let directory = try EgressFixtures.temporaryDirectory("x402-bad")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var bad = Self.configuration(facilitatorPort: 9, idleSeconds: 5)
        bad["pay_to"] = "0x12"
        let path = directory + "/x402.json"
        try JSONSerialization.data(withJSONObject: bad).write(to: URL(fileURLWithPath: path))
        let result = try runProgram(executable("supervisor"), ["--dev", "--port", "0", "--runtime-dir", directory + "/rt", "--x402", path])
        #expect(result.status != 0)
        #expect(result.stderr.contains("'pay_to' 0x12 is not an address"), "\(result.stderr)")
        // A served model without a price: the workers refuse, so the appliance never becomes ready.
        var unpriced = Self.configuration(facilitatorPort: 9, idleSeconds: 5)
        unpriced["prices"] = ["gpt-4.1": ["input_per_million": 1, "output_per_million": 1]]
        try JSONSerialization.data(withJSONObject: unpriced).write(to: URL(fileURLWithPath: path))
        let worker = try runProgram(
            executable("inference-worker"),
            ["--listen", "unix://\(directory)/w.sock", "--key-service", "unix://\(directory)/k.sock", "--dev", "--x402", path,
             "--x402-journal", directory + "/journal"])
        #expect(worker.status != 0)
        #expect(worker.stderr.contains("no price for"), "\(worker.stderr)")
    }

    @Test func paidRequestsEndToEnd() async throws {
        let directory = try EgressFixtures.temporaryDirectory("x402")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let mocks = try BackgroundProcess("mock x402", python(), [clientScript("mock_x402.py")])
        try await mocks.whileRunning {
            let (facilitatorPort, upstreamPort) = try await mocks.waitForLine("its ports") { line -> (Int, Int)? in
                let parts = line.split(separator: " ")
                guard parts.count == 3, parts[0] == "PORTS", let f = Int(parts[1]), let u = Int(parts[2]) else { return nil }
                return (f, u)
            }
            let mock = MockControl(port: facilitatorPort)
            let configPath = directory + "/x402.json"
            try JSONSerialization.data(withJSONObject: Self.configuration(facilitatorPort: facilitatorPort, idleSeconds: 6))
                .write(to: URL(fileURLWithPath: configPath))
            try await ApplianceHarness.run(
                workers: 2,
                workerArguments: ["--base-url", "openai=http://127.0.0.1:\(upstreamPort)/v1", "--x402-facilitator-timeout-ms", "1500"],
                extraArguments: ["--x402", configPath],
                environment: ["OPENAI_API_KEY": "sk-test"]
            ) { appliance in
                try await Self.exercise(appliance, mock: mock, directory: directory)
            }
        }
    }

    static let request = #"{"model":"gpt-4.1","messages":[{"role":"user","content":"pay me"}],"max_tokens":20}"#

    static func exercise(_ appliance: ApplianceHarness, mock: MockControl, directory: String) async throws {
        // 1. Unpaid: 402 whose requirements match the configuration, decoded by x402's own client.
        let unpaid = try Self.post(appliance, request)
        #expect(unpaid.status == 402, "\(unpaid.body)")
        let challenge = try #require(unpaid.header("payment-required"))
        let decoded = try Self.pay("exact", challenge).requirements
        let accepts = try #require(decoded["accepts"] as? [[String: Any]])
        let exact = try #require(accepts.first { $0["scheme"] as? String == "exact" })
        let upto = try #require(accepts.first { $0["scheme"] as? String == "upto" })
        let maximum = (request.utf8.count * inputPerMillion + 20 * outputPerMillion + 999_999) / 1_000_000
        #expect(exact["amount"] as? String == String(maximum))
        #expect(exact["payTo"] as? String == payTo && exact["asset"] as? String == asset && exact["network"] as? String == "eip155:8453")
        #expect((exact["extra"] as? [String: Any])?["name"] as? String == "USD Coin")
        // The resource is the URL the client called (its Host, through tls-front), not the worker's socket.
        #expect((decoded["resource"] as? [String: Any])?["url"] as? String == appliance.url + "/v1/chat/completions", "\(decoded)")
        #expect(upto["amount"] as? String == String(sessionCap))
        #expect(((upto["extra"] as? [String: Any])?["facilitatorAddress"] as? String)?.hasPrefix("0x1111") == true)
        let bodyJSON = try #require(try JSONSerialization.jsonObject(with: Data(unpaid.body.utf8)) as? [String: Any])
        #expect((bodyJSON["accepts"] as? [[String: Any]])?.count == 2)
        #expect(try mock.state()["upstream"] as? Int == 0)

        // 2. A forged payment: the facilitator says invalid, the provider is never called.
        let forged = try Self.post(appliance, request, headers: ["PAYMENT-SIGNATURE: \(try Self.pay("exact", challenge, forge: true).header)"])
        #expect(forged.status == 402 && forged.body.contains("invalid_signature"), "\(forged.body)")
        #expect(try mock.state()["upstream"] as? Int == 0)

        // 3. A slow facilitator: the gateway gives up (504) and serves nothing.
        try mock.control(["verify_delay": 3])
        let slow = try Self.post(appliance, request, headers: ["PAYMENT-SIGNATURE: \(try Self.pay("exact", challenge).header)"])
        #expect(slow.status == 504, "\(slow.body)")
        try mock.control(["verify_delay": 0])
        #expect(try mock.state()["upstream"] as? Int == 0)

        // 4. Paid (exact): served, signed cost = the settled amount, verifiable by gatewayctl.
        let payment = try Self.pay("exact", challenge).header
        let paid = try Self.post(appliance, request, headers: ["PAYMENT-SIGNATURE: \(payment)"])
        #expect(paid.status == 200, "\(paid.body)")
        let cost = try Self.teeCost(paid.body)
        #expect(cost["amount"] as? String == String(maximum))
        #expect(cost["input_tokens"] as? Int == 11 && cost["output_tokens"] as? Int == 7)
        let receipt = try #require(paid.header("payment-response").flatMap { Data(base64Encoded: $0) })
        #expect(String(decoding: receipt, as: UTF8.self).contains(#""success":true"#))
        var settlements = try #require(try mock.state()["settlements"] as? [[String: Any]])
        #expect(settlements.count == 1 && settlements[0]["amount"] as? String == String(maximum))
        let verified = try Self.verify(paid.body, appliance: appliance, directory: directory)
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        #expect(verified.stdout.contains("tee_cost"), "\(verified.stdout)")

        // 4b. Through OHTTP: the relay pays on the outer request, charged once, one provider call.
        let oblivious = try runProgram(python(), [clientScript("ohttp_paid.py"), appliance.url, appliance.certificatePath])
        #expect(oblivious.status == 0, "\(oblivious.stdout)\(oblivious.stderr)")
        #expect(try mock.state()["upstream"] as? Int == 2)
        settlements = try #require(try mock.state()["settlements"] as? [[String: Any]])
        #expect(settlements.count == 2 && oblivious.stdout.contains(#""amount": "\#(settlements.last?["amount"] as? String ?? "?")""#))

        // 5. The same payment again: refused before the provider.
        let replayed = try Self.post(appliance, request, headers: ["PAYMENT-SIGNATURE: \(payment)"])
        #expect(replayed.status == 402 && replayed.body.contains("already used"), "\(replayed.body)")
        #expect(try mock.state()["upstream"] as? Int == 2)

        // 6. Upto: one authorization opens a session charged per request by usage.
        let opened = try Self.post(appliance, request, headers: ["PAYMENT-SIGNATURE: \(try Self.pay("upto", challenge).header)"])
        #expect(opened.status == 200, "\(opened.body)")
        let session = try #require(opened.header("x-upto-session"))
        var charged = [try Self.teeCost(opened.body)]
        #expect(charged[0]["amount"] as? String == String(11 * 2 + 7 * 8))

        // 7. No usage from the provider: still charged, by the documented estimate.
        try mock.control(["omit_usage": true])
        let estimated = try Self.post(appliance, request, headers: ["X-Upto-Session: \(session)"])
        #expect(estimated.status == 200, "\(estimated.body)")
        charged.append(try Self.teeCost(estimated.body))
        let inputEstimate = (request.utf8.count + 3) / 4, outputEstimate = ("paid answer".utf8.count + 3) / 4
        #expect(charged[1]["input_tokens"] as? Int == inputEstimate && charged[1]["output_tokens"] as? Int == outputEstimate)
        #expect(charged[1]["amount"] as? String == String(inputEstimate * 2 + outputEstimate * 8))
        try mock.control(["omit_usage": false])

        // 8. A worker rotation during the session: the next request continues it.
        let rotation = try appliance.ctl("rotate-workers")
        #expect(rotation.stdout.contains("rotated"), "\(rotation.stdout)\(rotation.stderr)")
        let afterRotation = try Self.post(appliance, request, headers: ["X-Upto-Session: \(session)"])
        #expect(afterRotation.status == 200, "\(afterRotation.body)")
        charged.append(try Self.teeCost(afterRotation.body))

        // 9. A request whose maximum exceeds the session's remaining cap: 402, provider not called.
        let upstreamBefore = try mock.state()["upstream"] as? Int
        let big = #"{"model":"gpt-4.1","messages":[{"role":"user","content":"pay me"}],"max_tokens":50000}"#
        let capped = try Self.post(appliance, big, headers: ["X-Upto-Session: \(session)"])
        #expect(capped.status == 402 && capped.body.contains("remaining cap"), "\(capped.body)")
        #expect(try mock.state()["upstream"] as? Int == upstreamBefore)

        // 10. The first settlement attempt fails; the retry settles the sum of the signed costs.
        try mock.control(["fail_settle": 1])
        let total = charged.compactMap { ($0["amount"] as? String).flatMap { Int($0) } }.reduce(0, +)
        let deadline = ContinuousClock.now + .seconds(40)
        repeat {
            try await Task.sleep(for: .milliseconds(250))
            settlements = try #require(try mock.state()["settlements"] as? [[String: Any]])
        } while settlements.count < 3 && ContinuousClock.now < deadline
        #expect(settlements.count == 3, "\(settlements)")
        #expect(settlements.last?["scheme"] as? String == "upto")
        #expect(settlements.last?["amount"] as? String == String(total))
        #expect(try mock.state()["settle"] as? Int == 4)  // two exact, the failed upto attempt, the retry
        let metrics = try appliance.ctl("metrics")
        #expect(metrics.stdout.contains("x402_settlements_total"), "\(metrics.stdout.prefix(400))")
        // The settled session is closed.
        let closed = try Self.post(appliance, request, headers: ["X-Upto-Session: \(session)"])
        #expect(closed.status == 402, "\(closed.body)")
    }

    // MARK: Helpers

    struct Reply {
        let status: Int
        let headers: [(String, String)]
        let body: String
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name }?.1 }
    }

    static func post(_ appliance: ApplianceHarness, _ body: String, headers: [String] = []) throws -> Reply {
        let result = try appliance.curl("/v1/chat/completions", body: body, extra: ["-D", "-"] + headers.flatMap { ["-H", $0] })
        let text = result.stdout
        guard let split = text.range(of: "\r\n\r\n") else { throw HarnessError("no response head: \(text) \(result.stderr)") }
        let lines = text[..<split.lowerBound].split(separator: "\r\n").map(String.init)
        let status = lines.first.flatMap { Int($0.split(separator: " ")[1]) } ?? 0
        let fields = lines.dropFirst().compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        return Reply(status: status, headers: fields, body: String(text[split.upperBound...]))
    }

    static func pay(_ scheme: String, _ challenge: String, forge: Bool = false) throws -> (header: String, requirements: [String: Any]) {
        let result = try runProgram(python(), [clientScript("x402_pay.py"), scheme, challenge] + (forge ? ["--forge"] : []))
        let lines = result.stdout.split(separator: "\n").map(String.init)
        guard result.status == 0, lines.count == 2,
            let requirements = try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any]
        else { throw HarnessError("x402_pay.py failed: \(result.stderr)") }
        return (lines[0], requirements)
    }

    static func teeCost(_ body: String) throws -> [String: Any] {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        return try #require(object["tee_cost"] as? [String: Any], "no tee_cost in \(body)")
    }

    static func verify(_ response: String, appliance: ApplianceHarness, directory: String) throws -> CommandResult {
        try response.write(toFile: directory + "/response.json", atomically: true, encoding: .utf8)
        try request.write(toFile: directory + "/request.json", atomically: true, encoding: .utf8)
        return try runProgram(
            executable("gatewayctl"),
            ["verify", "--response", directory + "/response.json", "--request", directory + "/request.json", "--url", appliance.url])
    }
}

/// The mock facilitator's test-only control endpoints.
struct MockControl {
    let port: Int

    func state() throws -> [String: Any] {
        let result = try runProgram(URL(fileURLWithPath: "/usr/bin/curl"), ["-sS", "http://127.0.0.1:\(port)/_state"])
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }

    func control(_ settings: [String: Any]) throws {
        let body = String(decoding: try JSONSerialization.data(withJSONObject: settings), as: UTF8.self)
        _ = try runProgram(URL(fileURLWithPath: "/usr/bin/curl"), ["-sS", "-d", body, "http://127.0.0.1:\(port)/_control"])
    }
}
