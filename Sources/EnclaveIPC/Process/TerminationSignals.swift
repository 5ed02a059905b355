#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch

/// SIGTERM and SIGINT (how systemd, the supervisor and a terminal ask a process to stop) as a
/// callback, so each executable turns them into its own graceful stop instead of dying mid-request.
///
/// ```swift
/// let signals = TerminationSignals { server.shutdown() }
/// defer { signals.cancel() }
/// ```
public final class TerminationSignals: @unchecked Sendable {
    // Written once in init, then only cancelled: no mutable state is shared.
    private let sources: [any DispatchSourceSignal]

    public init(_ handler: @escaping @Sendable () -> Void) {
        sources = [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler(handler: handler)
            source.resume()
            return source
        }
    }

    /// Stops handling; the signals stay ignored.
    public func cancel() {
        sources.forEach { $0.cancel() }
    }
}
