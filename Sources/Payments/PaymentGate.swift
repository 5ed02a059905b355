#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GatewayCore
import Logging
import Synchronization

/// The paid-route gate: before the provider is called it decides whether a request is paid
/// for (a verified payment or an upto session with enough cap left), and afterwards it turns the
/// answer's usage into the signed `tee_cost`. A request whose maximum cost is not covered gets
/// 402 before any provider call; no path serves an answer that was not charged.
public final class PaymentGate: Sendable {
    public let configuration: PaymentConfiguration
    public let facilitator: FacilitatorClient
    public let journal: SessionJournal
    private let logger: Logger
    private let priceVersion: String

    public init(configuration: PaymentConfiguration, facilitator: FacilitatorClient, journal: SessionJournal, logger: Logger) {
        self.configuration = configuration
        self.facilitator = facilitator
        self.journal = journal
        self.logger = logger
        priceVersion = configuration.priceVersion
    }

    /// What a paid route's body says about its cost. `nil` model: the body is not JSON or
    /// names no model, and the pipeline refuses it before any provider call.
    public struct RequestFacts: Sendable {
        public var model: String?
        public var bodyBytes: Int
        public var maxOutputTokens: Int?

        /// `max_completion_tokens`, else `max_tokens`; legacy completions default to 16 (their
        /// documented default) and an explicit `null` means no limit (the default cap applies).
        public init(body: [UInt8], legacyCompletions: Bool) {
            bodyBytes = body.count
            let value = try? JSONParser().parse(body)
            model = value?["model"]?.stringValue
            func positive(_ key: String) -> Int? { value?[key]?.numberValue?.intValue.flatMap { $0 >= 1 ? $0 : nil } }
            if legacyCompletions, value?["max_tokens"] == nil {
                maxOutputTokens = 16
            } else {
                maxOutputTokens = positive("max_completion_tokens") ?? positive("max_tokens")
            }
        }
    }

    public enum Decision: Sendable {
        /// Not a priced request (see `RequestFacts.model`): the pipeline refuses it unserved.
        case unpriced
        /// Answer with this status, body and headers; the provider is not called.
        case refused(status: Int, body: [UInt8], headers: [(String, String)])
        /// Serve, metering the answer with this charge.
        case granted(Charge)
    }

    /// Decides on one request. `headers` are the HTTP request's (for `/v1/ohttp`, the outer
    /// request's: the relay pays).
    public func authorize(_ facts: RequestFacts, resource: String, headers: [(String, String)], now: Double = Date().timeIntervalSince1970) async -> Decision {
        guard let model = facts.model, let price = configuration.price(for: model) else { return .unpriced }
        let quote: CostQuote
        do {
            quote = try CostQuote(model: model, price: price, bodyBytes: facts.bodyBytes, maxOutputTokens: facts.maxOutputTokens)
        } catch {
            return await challenge(resource: resource, quote: nil, error: "\(error)")
        }
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name }?.1 }
        do throws(PaymentError) {
            if let session = header(X402.sessionHeader) {
                guard configuration.schemes.contains(.upto) else { throw .notAccepted("upto sessions are not offered here") }
                return .granted(try reserve(session: session, quote: quote, now: now))
            }
            guard let encoded = header(X402.paymentSignatureHeader) ?? header(X402.legacyPaymentHeader) else {
                return await challenge(resource: resource, quote: quote, error: "payment required")
            }
            let payment = try PaymentPayload(header: encoded)
            let extra = await facilitator.extra(scheme: PaymentConfiguration.Scheme(rawValue: payment.scheme) ?? .exact, network: configuration.network)
            let requirements = try payment.requirements(for: configuration, extra: extra)
            switch requirements.scheme {
            case .exact:
                guard requirements.amount >= quote.maximum else {
                    throw .insufficient("the payment covers \(requirements.amount); this request may cost up to \(quote.maximum)")
                }
            case .upto:
                guard requirements.amount >= quote.maximum else {
                    throw .insufficient("the authorization covers \(requirements.amount); this request may cost up to \(quote.maximum)")
                }
            }
            guard !journal.isSpent(payment.fingerprint) else { throw .replayed }
            let verdict = try await facilitator.verify(payment, requirements, resource: resource)
            guard verdict.isValid else { throw .invalid(verdict.invalidReason ?? "no reason given") }
            let fresh: Bool
            do { fresh = try journal.markSpent(payment.fingerprint) } catch { throw .facilitatorUnavailable("\(error)") }
            guard fresh else { throw .replayed }
            switch requirements.scheme {
            case .exact:
                return .granted(Charge(gate: self, quote: quote, mode: .exact(payment, requirements, resource: resource)))
            case .upto:
                let cap = min(requirements.amount, configuration.sessionCap)
                guard cap >= quote.maximum else {
                    throw .insufficient("the session cap \(cap) does not cover this request's maximum cost \(quote.maximum)")
                }
                let opened: (session: String, reservation: String)
                do {
                    opened = try journal.open(
                        cap: cap, reserving: quote.maximum, payment: payment.raw, requirements: requirements.json(resource: resource),
                        resource: resource, now: now)
                } catch {
                    throw .facilitatorUnavailable("\(error)")
                }
                logger.debug("x402 upto session opened")
                return .granted(Charge(gate: self, quote: quote, mode: .session(opened.session, reservation: opened.reservation)))
            }
        } catch {
            if case .facilitatorUnavailable = error { logger.error("x402 payment not checked", metadata: ["reason": "\(error)"]) }
            if error.status != 402 {
                let body = JSONWriter.serialize(["error": ["message": .string(error.description), "type": "payment_error"]], style: .compact)
                return .refused(status: error.status, body: body, headers: [])
            }
            return await challenge(resource: resource, quote: quote, error: error.description)
        }
    }

    private func reserve(session: String, quote: CostQuote, now: Double) throws(PaymentError) -> Charge {
        do {
            let reservation = try journal.reserve(session: session, amount: quote.maximum, now: now)
            return Charge(gate: self, quote: quote, mode: .session(session, reservation: reservation))
        } catch .insufficient(let remaining, let needed) {
            throw .insufficient("the session's remaining cap \(remaining) does not cover this request's maximum cost \(needed)")
        } catch .unknownSession {
            throw .unknownSession
        } catch {
            throw .facilitatorUnavailable("\(error)")
        }
    }

    /// The 402: what this request costs at most (exact) and the session cap (upto).
    func challenge(resource: String, quote: CostQuote?, error: String) async -> Decision {
        var accepts: [PaymentRequirements] = []
        for scheme in configuration.schemes {
            let amount: Amount
            switch scheme {
            case .exact:
                guard let quote else { continue }
                amount = quote.maximum
            case .upto:
                amount = configuration.sessionCap
            }
            accepts.append(PaymentRequirements(
                scheme: scheme, configuration: configuration, amount: amount,
                extra: await facilitator.extra(scheme: scheme, network: configuration.network)))
        }
        let required = PaymentRequired(error: error, resource: resource, accepts: accepts).json
        return .refused(
            status: 402, body: JSONWriter.serialize(required, style: .compact),
            headers: [(X402.paymentRequiredHeader, X402.encodeHeader(required))])
    }

    func signedCost(_ amount: Amount, inputTokens: Int, outputTokens: Int) -> TEECost {
        TEECost(
            amount: amount.description, asset: configuration.asset, network: configuration.network,
            inputTokens: inputTokens, outputTokens: outputTokens, priceVersion: priceVersion)
    }
}

/// One granted request's charge. It prices the answer (`cost`), records the charge once the
/// answer is signed (`commit`), and, for the exact scheme, settles before the answer is
/// released (`settleBeforeRelease`). Dropped without a commit, it releases its reservation: a
/// request that failed before a signed answer is not charged.
public final class Charge: Sendable {
    public enum Mode: Sendable {
        case exact(PaymentPayload, PaymentRequirements, resource: String)
        case session(String, reservation: String)
    }

    public let quote: CostQuote
    public let mode: Mode
    private let gate: PaymentGate
    private let committed = Mutex(false)

    init(gate: PaymentGate, quote: CostQuote, mode: Mode) {
        self.gate = gate
        self.quote = quote
        self.mode = mode
    }

    deinit {
        guard case .session(let id, let reservation) = mode, !committed.withLock({ $0 }) else { return }
        gate.journal.release(session: id, reservation: reservation, now: Date().timeIntervalSince1970)
    }

    /// Response headers for the client: the session id to reuse (upto).
    public var headers: [(String, String)] {
        if case .session(let id, _) = mode { return [(X402.sessionHeader, id)] }
        return []
    }

    /// Whether the provider must be told the output cap the quote assumed (the request set none).
    public var outputCap: Int? { quote.outputTokens }

    /// The signed cost of an answer. Usage as the provider reported it; without usage the
    /// gateway's own estimate (`TokenCount.estimate`) of the request and the answer, never zero.
    /// Upto: the exact price of that usage, at most the reserved maximum. Exact: the amount paid.
    public func cost(usage: TokenUsage?, requestBytes: Int, answerBytes: Int) -> TEECost {
        let input = usage?.promptTokens ?? TokenCount.estimate(utf8Bytes: requestBytes)
        let output = usage?.completionTokens ?? TokenCount.estimate(utf8Bytes: answerBytes)
        switch mode {
        case .exact(_, let requirements, _):
            return gate.signedCost(requirements.amount, inputTokens: input, outputTokens: output)
        case .session:
            let priced = (try? quote.price.cost(inputTokens: input, outputTokens: output)) ?? quote.maximum
            return gate.signedCost(min(priced, quote.maximum), inputTokens: input, outputTokens: output)
        }
    }

    /// Records the signed cost (upto: the session's committed total grows by it).
    public func commit(_ cost: TEECost) throws(JournalError) {
        guard case .session(let id, let reservation) = mode else {
            committed.withLock { $0 = true }
            return
        }
        try gate.journal.commit(session: id, reservation: reservation, amount: Amount(decimal: cost.amount) ?? quote.maximum, now: Date().timeIntervalSince1970)
        committed.withLock { $0 = true }
    }

    /// Exact scheme: settles the payment before any of the answer reaches the client; returns the
    /// `PAYMENT-RESPONSE` header. Upto: nothing to do now (the session settles later).
    public func settleBeforeRelease() async throws(PaymentError) -> [(String, String)] {
        guard case .exact(let payment, let requirements, let resource) = mode else { return [] }
        let receipt = try await gate.facilitator.settle(payment, requirements, resource: resource)
        return [(X402.paymentResponseHeader, X402.encodeHeader(receipt.json))]
    }
}
