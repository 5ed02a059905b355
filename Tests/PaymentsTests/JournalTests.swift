import Foundation
import GatewayCore
import Testing

@testable import Payments

@Suite struct JournalTests {
    static func journal() throws -> SessionJournal {
        let directory = NSTemporaryDirectory() + "journal-" + UUID().uuidString
        return try SessionJournal(directory: directory)
    }

    @Test func reserveCommitAndCap() throws {
        let journal = try Self.journal()
        let (id, first) = try journal.open(cap: Amount(100), reserving: Amount(60), payment: ["payload": [:]], requirements: [:], resource: "r", now: 0)
        #expect(throws: JournalError.insufficient(remaining: Amount(40), needed: Amount(50))) {
            try journal.reserve(session: id, amount: Amount(50), now: 1)
        }
        #expect(try journal.commit(session: id, reservation: first, amount: Amount(70), now: 2) == Amount(60))  // never above the reservation
        let second = try journal.reserve(session: id, amount: Amount(40), now: 3)
        try journal.commit(session: id, reservation: second, amount: Amount(15), now: 4)
        #expect(try journal.session(id)?.committed == Amount(75))
        #expect(throws: JournalError.unknownSession) { try journal.reserve(session: "../../etc/passwd", amount: Amount(1), now: 5) }
    }

    @Test func releasedReservationIsNotCharged() throws {
        let journal = try Self.journal()
        let (id, reservation) = try journal.open(cap: Amount(10), reserving: Amount(10), payment: [:], requirements: [:], resource: "r", now: 0)
        journal.release(session: id, reservation: reservation, now: 1)
        #expect(try journal.session(id)?.committed == .zero)
        #expect(try journal.session(id)?.remaining == Amount(10))
    }

    @Test func idleSessionsAreClaimedOnceAndRetriedWithBackoff() throws {
        let journal = try Self.journal()
        let (id, reservation) = try journal.open(cap: Amount(10), reserving: Amount(5), payment: [:], requirements: [:], resource: "r", now: 0)
        #expect(try journal.claimDue(now: 100, idleSeconds: 10, lease: 60).isEmpty)  // a request is in flight
        try journal.commit(session: id, reservation: reservation, amount: Amount(5), now: 1)
        #expect(try journal.claimDue(now: 5, idleSeconds: 10, lease: 60).isEmpty)  // not idle yet
        #expect(try journal.claimDue(now: 11, idleSeconds: 10, lease: 60).map(\.id) == [id])
        #expect(try journal.claimDue(now: 12, idleSeconds: 10, lease: 60).isEmpty)  // claimed
        #expect(throws: JournalError.unknownSession) { try journal.reserve(session: id, amount: Amount(1), now: 12) }
        let policy = SessionSettler.Policy(attempts: 3, initialBackoff: 2, lease: 60)
        #expect(policy.retryAt(afterFailures: 1, now: 12) == 14)
        #expect(policy.retryAt(afterFailures: 2, now: 12) == 16)
        #expect(policy.retryAt(afterFailures: 3, now: 12) == nil)
        try journal.recordSettlement(session: id, transaction: nil, failure: "down", retryAt: 14, now: 12)
        #expect(try journal.claimDue(now: 13, idleSeconds: 10, lease: 60).isEmpty)
        #expect(try journal.claimDue(now: 14, idleSeconds: 10, lease: 60).count == 1)
        try journal.recordSettlement(session: id, transaction: nil, failure: "down", retryAt: nil, now: 14)
        let failed = try #require(try journal.session(id))
        #expect(failed.state == .failed && failed.attempts == 2 && failed.failure == "down")
        #expect(try journal.claimDue(now: 1000, idleSeconds: 10, lease: 60).isEmpty)
    }

    @Test func exhaustedSessionIsDueAtOnce() throws {
        let journal = try Self.journal()
        let (id, reservation) = try journal.open(cap: Amount(10), reserving: Amount(10), payment: [:], requirements: [:], resource: "r", now: 0)
        try journal.commit(session: id, reservation: reservation, amount: Amount(10), now: 1)
        #expect(try journal.claimDue(now: 1, idleSeconds: 1000, lease: 60).map(\.id) == [id])
    }

    @Test func spentPaymentsAreRefusedTheSecondTime() throws {
        let journal = try Self.journal()
        #expect(try journal.markSpent("abc123"))
        #expect(try !journal.markSpent("abc123"))
        #expect(throws: JournalError.self) { try journal.markSpent("../x") }
    }

    @Test func journalSurvivesANewInstance() throws {
        let journal = try Self.journal()
        let (id, reservation) = try journal.open(cap: Amount(10), reserving: Amount(4), payment: ["p": 1], requirements: [:], resource: "r", now: 0)
        let again = try SessionJournal(directory: journal.directory)  // another worker, or a restarted one
        try again.commit(session: id, reservation: reservation, amount: Amount(3), now: 1)
        #expect(try journal.session(id)?.committed == Amount(3))
    }
}
