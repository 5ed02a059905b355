#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GatewayCore
import Logging
import Metrics

/// Settles upto sessions from the journal: idle ones and ones whose cap is used up. Every worker
/// runs one; the journal's claims make sure one session is settled by one worker at a time, and
/// a worker that dies mid-settlement leaves a claim that lapses, so another retries.
///
/// A failed settlement is retried with exponential backoff (`Policy`); after the last attempt
/// the session is marked failed in the journal (kept for the operator), logged without payment
/// data, and counted in `x402_settlement_failures_total`. Nothing is dropped silently.
public struct SessionSettler: Sendable {
    public struct Policy: Sendable {
        /// Attempts in all, the first included.
        public var attempts: Int
        /// Delay before the second attempt; doubles after each failure.
        public var initialBackoff: Double
        /// How long a claim keeps other workers off a session being settled.
        public var lease: Double

        public init(attempts: Int = 6, initialBackoff: Double = 1, lease: Double = 60) {
            self.attempts = attempts
            self.initialBackoff = initialBackoff
            self.lease = lease
        }

        /// When attempt `failed + 1` may run after `failed` failures, or nil when none is left.
        public func retryAt(afterFailures failed: Int, now: Double) -> Double? {
            guard failed < attempts else { return nil }
            return now + initialBackoff * Double(1 << min(failed - 1, 20))
        }
    }

    let journal: SessionJournal
    let facilitator: FacilitatorClient
    let idleSeconds: Double
    let policy: Policy
    let logger: Logger

    public init(journal: SessionJournal, facilitator: FacilitatorClient, idleSeconds: Double, policy: Policy = Policy(), logger: Logger) {
        self.journal = journal
        self.facilitator = facilitator
        self.idleSeconds = idleSeconds
        self.policy = policy
        self.logger = logger
    }

    /// Polls until cancelled: a quarter of the idle time, between 0.2 and 5 seconds.
    public func run() async {
        let period = min(5, max(0.2, idleSeconds / 4))
        while !Task.isCancelled {
            await settleDue()
            try? await Task.sleep(for: .milliseconds(Int(period * 1000)))
        }
    }

    /// One pass: claims every due session and settles it. Returns how many settled.
    @discardableResult
    public func settleDue(now: Double = Date().timeIntervalSince1970) async -> Int {
        let due: [SessionJournal.Session]
        do {
            due = try journal.claimDue(now: now, idleSeconds: idleSeconds, lease: policy.lease)
        } catch {
            logger.error("x402 session journal unreadable", metadata: ["error": "\(error)"])
            return 0
        }
        var settled = 0
        for session in due where await settle(session, now: now) { settled += 1 }
        return settled
    }

    /// `now` is the pass's clock (the caller's, so tests can drive time); the retry is
    /// scheduled relative to it.
    private func settle(_ session: SessionJournal.Session, now passStarted: Double) async -> Bool {
        let now = { passStarted }
        guard session.committed > .zero else {
            // Opened and never charged (every request failed): nothing to transfer.
            try? journal.recordSettlement(session: session.id, transaction: nil, failure: nil, retryAt: nil, now: now())
            return true
        }
        do throws(PaymentError) {
            guard let payment = try? PaymentPayload(json: session.payment),
                var requirements = PaymentRequirements(json: session.requirements)
            else { throw .settlementFailed("the journal's payment record is unreadable") }
            requirements.amount = session.committed
            let receipt = try await facilitator.settle(payment, requirements, resource: session.resource)
            try? journal.recordSettlement(session: session.id, transaction: receipt.transaction, failure: nil, retryAt: nil, now: now())
            Counter(label: "x402_settlements_total", dimensions: [("result", "settled")]).increment()
            logger.info("x402 session settled", metadata: ["session": "\(session.id.prefix(8))"])
            return true
        } catch {
            let failures = session.attempts + 1
            let retryAt = policy.retryAt(afterFailures: failures, now: now())
            try? journal.recordSettlement(session: session.id, transaction: nil, failure: error.description, retryAt: retryAt, now: now())
            if retryAt == nil {
                Counter(label: "x402_settlement_failures_total").increment()
                logger.error(
                    "x402 session settlement failed for good; kept in the journal as failed",
                    metadata: ["session": "\(session.id.prefix(8))", "attempts": "\(failures)",
                               "reason": "\(error)"])
            } else {
                Counter(label: "x402_settlements_total", dimensions: [("result", "retry")]).increment()
                logger.warning("x402 session settlement failed; will retry", metadata: ["session": "\(session.id.prefix(8))", "attempt": "\(failures)", "reason": "\(error)"])
            }
            return false
        }
    }
}

extension PaymentPayload {
    /// A payment as the journal stored it (`raw`).
    init(json: JSONValue) throws(PaymentError) {
        try self.init(header: X402.encodeHeader(json))
    }
}

extension PaymentRequirements {
    /// Requirements as `json(resource:)` wrote them into the journal.
    init?(json value: JSONValue) {
        guard let schemeName = value["scheme"]?.stringValue, let scheme = PaymentConfiguration.Scheme(rawValue: schemeName),
            let network = value["network"]?.stringValue, let asset = value["asset"]?.stringValue, let payTo = value["payTo"]?.stringValue,
            let amount = value["amount"]?.stringValue.flatMap({ Amount(decimal: $0) })
        else { return nil }
        self.scheme = scheme
        self.network = network
        self.asset = asset
        self.payTo = payTo
        self.amount = amount
        maxTimeoutSeconds = value["maxTimeoutSeconds"]?.numberValue?.intValue ?? 300
        extra = value["extra"]?.objectValue ?? JSONObject()
    }
}
