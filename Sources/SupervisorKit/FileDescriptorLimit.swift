import Foundation

/// The process's open-file limit (`RLIMIT_NOFILE`). Every client connection costs tls-front two
/// descriptors (the client's and, while a request runs, one to a worker) and a worker one, so
/// the common default soft limit of 1,024 caps the appliance near 1,000 concurrent streams
/// however much memory it has. The supervisor raises its limit at start (see `raise()`);
/// children inherit limits across exec, so key-service, tls-front and the workers get it too.
public enum FileDescriptorLimit {
    /// `RLIM_INFINITY` (all bits set on Linux; the C macro does not import as an unsigned value).
    public static let unlimited = UInt64.max

    public struct Values: Sendable, Equatable, CustomStringConvertible {
        public let soft: UInt64
        public let hard: UInt64

        public var description: String { "soft \(Self.text(soft)), hard \(Self.text(hard))" }

        private static func text(_ value: UInt64) -> String { value == FileDescriptorLimit.unlimited ? "unlimited" : String(value) }
    }

    /// The outcome of `raise()`: the limits before and after, and why it stopped short if it did.
    public struct Raised: Sendable, Equatable, CustomStringConvertible {
        public let before: Values
        public let after: Values
        /// Set when the kernel refused the new soft limit (the limits stay `before`).
        public let failure: String?

        public var description: String {
            if let failure { return "open-file limit stays \(before) (raising it failed: \(failure))" }
            if before == after { return "open-file limit \(after) (already as high as allowed)" }
            return "open-file limit raised to \(after) (was \(before))"
        }
    }

    /// The current limits.
    public static func current() -> Values {
        var limit = rlimit()
        getrlimit(resource, &limit)
        return Values(soft: UInt64(limit.rlim_cur), hard: UInt64(limit.rlim_max))
    }

    /// Raises the limit as far as allowed: soft and hard to the kernel's per-process ceiling
    /// (`fs.nr_open`) where the process may raise its hard limit (root, as the supervisor is in
    /// the enclave), else the soft limit to the hard limit. The kernel refuses an unlimited soft
    /// open-file limit (or one above the ceiling), so the soft limit stops at the ceiling.
    public static func raise() -> Raised {
        let before = current()
        let ceiling = kernelCeiling()
        if before.hard != unlimited, before.hard < ceiling, set(soft: ceiling, hard: ceiling) == nil {
            return Raised(before: before, after: current(), failure: nil)
        }
        let target = min(before.hard, ceiling)  // the soft limit may not exceed the ceiling either
        guard target > before.soft else { return Raised(before: before, after: before, failure: nil) }
        if let failure = set(soft: target, hard: before.hard) { return Raised(before: before, after: before, failure: failure) }
        return Raised(before: before, after: current(), failure: nil)
    }

    /// nil on success, else the reason.
    private static func set(soft: UInt64, hard: UInt64) -> String? {
        var limit = rlimit(rlim_cur: rlim_t(soft), rlim_max: rlim_t(hard))
        return setrlimit(resource, &limit) == 0 ? nil : String(cString: strerror(errno))
    }

    /// `/proc/sys/fs/nr_open`, or 1,048,576 (Linux's default for it) when unreadable.
    static func kernelCeiling() -> UInt64 {
        let text = try? String(contentsOfFile: "/proc/sys/fs/nr_open", encoding: .utf8)
        return text.flatMap { UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 1 << 20
    }

    #if canImport(Glibc)
    private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let resource = RLIMIT_NOFILE
    #endif
}
