import Foundation
import GatewayCore
import Logging
import Providers
import Testing
import UpstreamMock

@testable import Payments

/// `FacilitatorClient` and `SessionSettler` against a scripted facilitator on loopback.
@Suite struct FacilitatorTests {
    static let configuration = try! ConfigurationTests.parse(ConfigurationTests.valid)
    static let paymentJSON: JSONValue = [
        "x402Version": 2, "payload": ["authorization": ["value": "500"], "signature": "0x01"],
        "accepted": ["scheme": "exact", "network": "eip155:8453", "asset": "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
                     "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", "amount": "500"],
    ]

    static func withFacilitator<T>(
        _ replies: [MockUpstream.Reply], timeout: Duration = .seconds(5), _ body: (FacilitatorClient, MockUpstream) async throws -> T
    ) async throws -> T {
        let mock = try await MockUpstream.start(replies)
        let http = UpstreamHTTPClient()
        do {
            let result = try await body(FacilitatorClient(baseURL: mock.baseURL, http: http, timeout: timeout), mock)
            try await http.shutdown()
            await mock.stop()
            return result
        } catch {
            try? await http.shutdown()
            await mock.stop()
            throw error
        }
    }

    static func payment() throws -> (PaymentPayload, PaymentRequirements) {
        let payment = try PaymentPayload(header: X402.encodeHeader(paymentJSON))
        return (payment, try payment.requirements(for: configuration, extra: JSONObject()))
    }

    @Test func verifySendsTheFacilitatorShapeAndReadsTheVerdict() async throws {
        try await Self.withFacilitator([
            .json(status: 200, #"{"isValid":true,"payer":"0xabc"}"#),
            .json(status: 400, #"{"isValid":false,"invalidReason":"invalid_signature"}"#),
        ]) { facilitator, mock in
            let (payment, requirements) = try Self.payment()
            let valid = try await facilitator.verify(payment, requirements, resource: "r")
            #expect(valid.isValid && valid.payer == "0xabc")
            let invalid = try await facilitator.verify(payment, requirements, resource: "r")
            #expect(!invalid.isValid && invalid.invalidReason == "invalid_signature")
            let sent = try mock.requests[0].json
            #expect(mock.requests[0].uri == "/verify")
            #expect(sent["x402Version"]?.numberValue?.intValue == 2)
            #expect(sent["paymentPayload"] == Self.paymentJSON)
            #expect(sent["paymentRequirements"]?["amount"]?.stringValue == "500")
            #expect(sent["paymentRequirements"]?["payTo"]?.stringValue == Self.configuration.payTo)
        }
    }

    @Test func failuresAreTypedErrors() async throws {
        try await Self.withFacilitator([
            .json(status: 500, "oops"),
            .json(status: 200, "not json"),
            .json(status: 200, #"{"success":false,"errorReason":"insufficient_funds"}"#),
            .json(status: 200, #"{"verdict":"?"}"#),
        ]) { facilitator, _ in
            let (payment, requirements) = try Self.payment()
            await #expect(throws: PaymentError.facilitatorUnavailable("/verify answered HTTP 500")) {
                try await facilitator.verify(payment, requirements, resource: "r")
            }
            await #expect(throws: PaymentError.facilitatorUnavailable("/verify answered HTTP 200")) {
                try await facilitator.verify(payment, requirements, resource: "r")
            }
            await #expect(throws: PaymentError.settlementFailed("insufficient_funds")) {
                try await facilitator.settle(payment, requirements, resource: "r")
            }
            await #expect(throws: PaymentError.facilitatorUnavailable("/settle answered without 'success'")) {
                try await facilitator.settle(payment, requirements, resource: "r")
            }
        }
    }

    @Test func aSlowFacilitatorTimesOut() async throws {
        let slow = MockUpstream.Reply(status: 200, headers: [("content-type", "application/json")], pieces: [.hang])  // never answers
        try await Self.withFacilitator([slow], timeout: .milliseconds(200)) { facilitator, _ in
            let (payment, requirements) = try Self.payment()
            do throws(PaymentError) {
                _ = try await facilitator.verify(payment, requirements, resource: "r")
                Issue.record("a stalled facilitator answered")
            } catch {
                #expect(error.description.contains("timed out"), "\(error)")
                #expect(error.status == 504)
            }
        }
    }

    static func exhaustedSession(_ journal: SessionJournal, amount: Int) throws -> String {
        let (payment, requirements) = try payment()
        let (id, reservation) = try journal.open(
            cap: Amount(1000), reserving: Amount(UInt128(amount)), payment: payment.raw, requirements: requirements.json(resource: "r"),
            resource: "r", now: 0)
        try journal.commit(session: id, reservation: reservation, amount: Amount(UInt128(amount)), now: 0)
        return id
    }

    @Test func settlementIsRetriedThenMarkedFailedNeverDropped() async throws {
        let journal = try JournalTests.journal()
        let failure = MockUpstream.Reply.json(status: 200, #"{"success":false,"errorReason":"rpc_down"}"#)
        try await Self.withFacilitator([failure, failure]) { facilitator, mock in
            let id = try Self.exhaustedSession(journal, amount: 123)
            let settler = SessionSettler(
                journal: journal, facilitator: facilitator, idleSeconds: 1000, policy: .init(attempts: 2, initialBackoff: 0, lease: 60),
                logger: Logger(label: "test"))
            #expect(await settler.settleDue() == 0)
            #expect(try journal.session(id)?.state == .settling)
            #expect(await settler.settleDue() == 0)
            let failed = try #require(try journal.session(id))
            #expect(failed.state == .failed && failed.attempts == 2 && failed.failure?.contains("rpc_down") == true)
            #expect(mock.requests.count == 2)
            #expect(try mock.requests.allSatisfy { try $0.json["paymentRequirements"]?["amount"]?.stringValue == "123" })
            #expect(await settler.settleDue() == 0)
            #expect(mock.requests.count == 2)  // a failed session is kept for the operator, not retried forever
        }
    }

    @Test func aRetrySettlesTheCommittedAmount() async throws {
        let journal = try JournalTests.journal()
        try await Self.withFacilitator([
            .json(status: 502, "bad gateway"), .json(status: 200, #"{"success":true,"transaction":"0xfeed","network":"eip155:8453"}"#),
        ]) { facilitator, mock in
            let id = try Self.exhaustedSession(journal, amount: 77)
            let empty = try journal.open(cap: Amount(10), reserving: Amount(5), payment: [:], requirements: [:], resource: "r", now: 0)
            journal.release(session: empty.session, reservation: empty.reservation, now: 0)
            let settler = SessionSettler(
                journal: journal, facilitator: facilitator, idleSeconds: 1, policy: .init(attempts: 3, initialBackoff: 0, lease: 60),
                logger: Logger(label: "test"))
            _ = await settler.settleDue(now: 10)
            #expect(await settler.settleDue(now: 11) == 1)
            let settled = try #require(try journal.session(id))
            #expect(settled.state == .settled && settled.transaction == "0xfeed")
            #expect(try journal.session(empty.session)?.state == .settled)  // nothing charged: no transfer asked for
            #expect(mock.requests.count == 2)
        }
    }
}
