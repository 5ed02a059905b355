import Synchronization

/// Bytes a proxy has read from one side and not yet handed to the kernel on the other, summed
/// over all its tunnels, with the highest value seen. This is the memory backpressure is meant
/// to bound, so it is what tests and operators look at to check that a slow reader cannot make
/// the proxy buffer without limit.
public final class InFlightBytes: Sendable {
    private let current = Atomic<Int>(0)
    private let peakValue = Atomic<Int>(0)

    public init() {}

    public var bytes: Int { current.load(ordering: .relaxed) }

    /// The maximum of `bytes` since creation or the last `resetPeak()`.
    public var peak: Int { peakValue.load(ordering: .relaxed) }

    public func resetPeak() {
        peakValue.store(current.load(ordering: .relaxed), ordering: .relaxed)
    }

    func add(_ count: Int) {
        let now = current.wrappingAdd(count, ordering: .relaxed).newValue
        var seen = peakValue.load(ordering: .relaxed)
        while now > seen {
            let (exchanged, original) = peakValue.compareExchange(
                expected: seen,
                desired: now,
                ordering: .relaxed
            )
            if exchanged { break }
            seen = original
        }
    }

    func subtract(_ count: Int) {
        current.wrappingSubtract(count, ordering: .relaxed)
    }
}
