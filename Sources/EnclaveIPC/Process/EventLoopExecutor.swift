import NIOCore
import NIOPosix

/// Runs Swift concurrency on SwiftNIO's event-loop threads instead of the global cooperative
/// pool, in key-service, tls-front and the workers.
///
/// Why: in these processes nearly every task awaits a channel that lives on an event loop. With
/// two thread pools, each request hopped between them several times (I/O on an event loop, the
/// handler's task on the cooperative pool, back for the write): 22–29 context switches per
/// signed answer across the appliance, 12–19% of the profile. With one pool they are 7–12, and
/// latency and CPU per answer at one connection fall by 10–20% (docs/performance.md). Both pools
/// are one thread per core, so blocking work is no worse here than it was there.
public enum EventLoopExecutor {
    /// Installs NIO's singleton event loops as the global concurrency executor. Call it first in
    /// the executable's `run()`, before any task or NIO singleton is created. Returns false when
    /// another executor was installed first; the process then runs on that one, as before.
    @discardableResult
    public static func install() -> Bool {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }
}
