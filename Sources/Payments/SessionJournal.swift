#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
import GatewayCore

/// Upto sessions and spent payments, kept in files so they outlive the worker that opened them.
///
/// Workers are stateless and rotated at will, and several serve at once, so session state
/// cannot live in a worker's memory (upstream's did, and a restart lost every unsettled charge).
/// It lives in a directory under the workers' runtime directory, which the supervisor creates and
/// keeps across rotations and worker restarts:
///
///     DIR/journal.lock          flock(2) held for every read-modify-write below
///     DIR/sessions/ID.json      one session: cap, committed, open reservations, payment, state
///     DIR/spent/FINGERPRINT     one per payment ever accepted (replay refusal, O_EXCL)
///
/// Every operation takes the lock, reads, changes and atomically replaces (write + rename) the
/// session file, so two workers never lose each other's charges. Files are 0600: the payment
/// authorization in a session is needed to settle it, and only the worker user may read it.
public struct SessionJournal: Sendable {
    public let directory: String
    /// A reservation older than this belongs to a request whose worker died mid-answer; it no
    /// longer holds the session open (its answer was never signed, so it is not charged).
    public static let reservationLifetime: Double = 3600
    /// How long a settled session's file stays (failed ones stay until the operator removes them).
    public static let settledRetention: Double = 3600

    public init(directory: String) throws(JournalError) {
        self.directory = directory
        for path in [directory, directory + "/sessions", directory + "/spent"] {
            if mkdir(path, 0o700) != 0 && errno != EEXIST {
                throw .io("cannot create \(path): \(String(cString: strerror(errno)))")
            }
        }
    }

    public struct Session: Sendable, Equatable {
        public enum State: String, Sendable { case open, settling, settled, failed }
        public var id: String
        public var state: State
        public var cap: Amount
        public var committed: Amount
        /// Reservation id → (amount, unix time).
        public var reservations: [String: (amount: Amount, at: Double)]
        public var lastActivity: Double
        public var payment: JSONValue
        public var requirements: JSONValue
        public var resource: String
        public var attempts: Int
        public var nextAttemptAt: Double
        public var claimedUntil: Double
        public var transaction: String?
        public var failure: String?

        public var reserved: Amount { reservations.values.reduce(Amount.zero) { Amount($0.value &+ $1.amount.value) } }
        public var remaining: Amount { cap.saturatingSubtract(committed).saturatingSubtract(reserved) }

        public static func == (lhs: Session, rhs: Session) -> Bool {
            JSONWriter.serialize(lhs.json, style: .canonical) == JSONWriter.serialize(rhs.json, style: .canonical)
        }

        var json: JSONValue {
            var reservations = JSONObject()
            for (key, value) in self.reservations.sorted(by: { $0.key < $1.key }) {
                reservations[key] = ["amount": .string(value.amount.description), "at": .number(JSONNumber(value.at))]
            }
            var object = JSONObject([
                ("id", .string(id)), ("state", .string(state.rawValue)), ("cap", .string(cap.description)),
                ("committed", .string(committed.description)), ("reservations", .object(reservations)),
                ("last_activity", .number(JSONNumber(lastActivity))), ("payment", payment), ("requirements", requirements),
                ("resource", .string(resource)), ("attempts", .number(JSONNumber(attempts))),
                ("next_attempt_at", .number(JSONNumber(nextAttemptAt))), ("claimed_until", .number(JSONNumber(claimedUntil))),
            ])
            if let transaction { object["transaction"] = .string(transaction) }
            if let failure { object["failure"] = .string(failure) }
            return .object(object)
        }

        init(json value: JSONValue) throws(JournalError) {
            func text(_ key: String) throws(JournalError) -> String {
                guard let string = value[key]?.stringValue else { throw .corrupt("session field '\(key)' missing") }
                return string
            }
            func amount(_ key: String) throws(JournalError) -> Amount {
                guard let amount = Amount(decimal: try text(key)) else { throw .corrupt("session field '\(key)' is not an amount") }
                return amount
            }
            func number(_ key: String) throws(JournalError) -> Double {
                guard let number = value[key]?.numberValue?.doubleValue else { throw .corrupt("session field '\(key)' missing") }
                return number
            }
            id = try text("id")
            guard let state = State(rawValue: try text("state")) else { throw .corrupt("session state unknown") }
            self.state = state
            cap = try amount("cap")
            committed = try amount("committed")
            var reservations: [String: (amount: Amount, at: Double)] = [:]
            for (key, entry) in value["reservations"]?.objectValue ?? JSONObject() {
                guard let amount = entry["amount"]?.stringValue.flatMap({ Amount(decimal: $0) }), let at = entry["at"]?.numberValue?.doubleValue
                else { throw .corrupt("reservation \(key) malformed") }
                reservations[key] = (amount, at)
            }
            self.reservations = reservations
            lastActivity = try number("last_activity")
            payment = value["payment"] ?? .null
            requirements = value["requirements"] ?? .null
            resource = try text("resource")
            attempts = Int(try number("attempts"))
            nextAttemptAt = try number("next_attempt_at")
            claimedUntil = try number("claimed_until")
            transaction = value["transaction"]?.stringValue
            failure = value["failure"]?.stringValue
        }

        init(id: String, cap: Amount, payment: JSONValue, requirements: JSONValue, resource: String, now: Double) {
            self.id = id
            state = .open
            self.cap = cap
            committed = .zero
            reservations = [:]
            lastActivity = now
            self.payment = payment
            self.requirements = requirements
            self.resource = resource
            attempts = 0
            nextAttemptAt = 0
            claimedUntil = 0
        }
    }

    // MARK: Replay

    /// Whether a payment was already accepted once (checked before asking the facilitator, so a
    /// replay costs it nothing).
    public func isSpent(_ fingerprint: String) -> Bool {
        Self.isFingerprint(fingerprint) && access(directory + "/spent/" + fingerprint, F_OK) == 0
    }

    static func isFingerprint(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 128 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// Records a payment as used; false when it already was (a replay). Atomic across workers.
    public func markSpent(_ fingerprint: String) throws(JournalError) -> Bool {
        guard Self.isFingerprint(fingerprint) else {
            throw .corrupt("fingerprint must be lowercase hex")
        }
        let fd = posixOpen(directory + "/spent/" + fingerprint, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 {
            if errno == EEXIST { return false }
            throw .io("cannot record a spent payment: \(String(cString: strerror(errno)))")
        }
        close(fd)
        return true
    }

    // MARK: Sessions

    /// Opens a session for an upto authorization of `cap` and reserves `amount` for the request
    /// that opened it. Returns (session id, reservation id).
    public func open(
        cap: Amount, reserving amount: Amount, payment: JSONValue, requirements: JSONValue, resource: String, now: Double
    ) throws(JournalError) -> (session: String, reservation: String) {
        try locked { () throws(JournalError) in
            let id = Self.randomID()
            var session = Session(id: id, cap: cap, payment: payment, requirements: requirements, resource: resource, now: now)
            let reservation = Self.randomID()
            session.reservations[reservation] = (amount, now)
            try write(session)
            return (id, reservation)
        }
    }

    /// Holds `amount` of the session's remaining cap for one request.
    public func reserve(session id: String, amount: Amount, now: Double) throws(JournalError) -> String {
        try locked { () throws(JournalError) in
            guard var session = try read(id), session.state == .open else { throw .unknownSession }
            session.reservations = session.reservations.filter { now - $0.value.at < Self.reservationLifetime }
            guard session.remaining >= amount else { throw .insufficient(remaining: session.remaining, needed: amount) }
            let reservation = Self.randomID()
            session.reservations[reservation] = (amount, now)
            session.lastActivity = now
            try write(session)
            return reservation
        }
    }

    /// Turns a reservation into a charge of `amount` (at most what was reserved). Returns the
    /// amount charged.
    @discardableResult
    public func commit(session id: String, reservation: String, amount: Amount, now: Double) throws(JournalError) -> Amount {
        try locked { () throws(JournalError) in
            guard var session = try read(id), let held = session.reservations.removeValue(forKey: reservation) else { throw .unknownSession }
            let charged = min(amount, held.amount)
            session.committed = Amount(session.committed.value + charged.value)
            session.lastActivity = now
            try write(session)
            return charged
        }
    }

    /// Drops a reservation without a charge (the request failed before an answer was signed).
    public func release(session id: String, reservation: String, now: Double) {
        try? locked { () throws(JournalError) in
            guard var session = try read(id), session.reservations.removeValue(forKey: reservation) != nil else { return }
            session.lastActivity = now
            try write(session)
        }
    }

    public func session(_ id: String) throws(JournalError) -> Session? { try locked { () throws(JournalError) in try read(id) } }

    /// Sessions that should be settled now, claimed for `lease` seconds so no other worker
    /// settles them meanwhile: open ones idle for `idleSeconds` or with nothing left of the cap
    /// (and no request in flight), and settling ones whose retry is due or whose claim lapsed.
    public func claimDue(now: Double, idleSeconds: Double, lease: Double) throws(JournalError) -> [Session] {
        try locked { () throws(JournalError) in
            var claimed: [Session] = []
            for id in try sessionIDs() {
                guard var session = try read(id) else { continue }
                session.reservations = session.reservations.filter { now - $0.value.at < Self.reservationLifetime }
                let due: Bool
                switch session.state {
                case .open:
                    due = session.reservations.isEmpty && (now - session.lastActivity >= idleSeconds || session.remaining == .zero)
                case .settling:
                    due = now >= session.nextAttemptAt && now >= session.claimedUntil
                case .settled:
                    // Kept an hour for inspection, then dropped so each pass stays small.
                    if now - session.lastActivity > Self.settledRetention { unlink(path(id)) }
                    due = false
                case .failed:
                    due = false  // kept for the operator: its charges were never collected
                }
                guard due else { continue }
                session.state = .settling
                session.claimedUntil = now + lease
                try write(session)
                claimed.append(session)
            }
            return claimed
        }
    }

    /// Records the outcome of one settlement attempt. A failure schedules the next attempt at
    /// `retryAt`, or, when nil (attempts exhausted), marks the session failed for good.
    public func recordSettlement(session id: String, transaction: String?, failure: String?, retryAt: Double?, now: Double) throws(JournalError) {
        try locked { () throws(JournalError) in
            guard var session = try read(id) else { throw .unknownSession }
            session.claimedUntil = 0
            if let failure {
                session.attempts += 1
                session.failure = failure
                if let retryAt {
                    session.nextAttemptAt = retryAt
                } else {
                    session.state = .failed
                }
            } else {
                session.state = .settled
                session.transaction = transaction
                session.failure = nil
            }
            try write(session)
        }
    }

    // MARK: Files

    private func locked<T>(_ body: () throws(JournalError) -> T) throws(JournalError) -> T {
        let fd = posixOpen(directory + "/journal.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io("cannot open the journal lock: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw .io("cannot lock the journal: \(String(cString: strerror(errno)))") }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    private func path(_ id: String) -> String { directory + "/sessions/" + id + ".json" }

    private func sessionIDs() throws(JournalError) -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: directory + "/sessions")
                .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
        } catch {
            throw .io("cannot list sessions: \(error)")
        }
    }

    private func read(_ id: String) throws(JournalError) -> Session? {
        guard Self.isID(id) else { return nil }
        guard let data = FileManager.default.contents(atPath: path(id)) else { return nil }
        do { return try Session(json: try JSONParser().parse(Array(data))) } catch let error as JournalError { throw error } catch {
            throw .corrupt("session \(id): \(error)")
        }
    }

    private func write(_ session: Session) throws(JournalError) {
        let bytes = JSONWriter.serialize(session.json, style: .compact)
        let temporary = path(session.id) + ".tmp"
        let fd = posixOpen(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io("cannot write session \(session.id): \(String(cString: strerror(errno)))") }
        let written = bytes.withUnsafeBytes { posixWrite(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == bytes.count, synced, rename(temporary, path(session.id)) == 0 else {
            throw .io("cannot write session \(session.id): \(String(cString: strerror(errno)))")
        }
    }

    static func randomID() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    /// 32 lowercase hex digits: what `randomID` makes; anything else (a path, `..`) is no session.
    static func isID(_ text: String) -> Bool {
        text.utf8.count == 32 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}

public enum JournalError: Error, Equatable, CustomStringConvertible {
    case unknownSession
    case insufficient(remaining: Amount, needed: Amount)
    case io(String)
    case corrupt(String)

    public var description: String {
        switch self {
        case .unknownSession: "unknown, expired or exhausted session"
        case .insufficient(let remaining, let needed):
            "the session's remaining cap \(remaining) does not cover this request's maximum cost \(needed)"
        case .io(let reason): "session journal: \(reason)"
        case .corrupt(let reason): "session journal is corrupt: \(reason)"
        }
    }
}

/// `open(2)`, under a name the journal's own `open(cap:…)` does not shadow.
private func posixOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { open(path, flags, mode) }

private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int { write(fd, buffer, count) }
