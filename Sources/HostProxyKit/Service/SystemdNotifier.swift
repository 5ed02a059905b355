import CSystemd

/// Tells systemd how the service is doing (sd_notify(3)): `READY=1` once every listener is up
/// (so `systemctl start` and units ordered after host-proxy wait for real readiness),
/// `WATCHDOG=1` pings at half the unit's `WatchdogSec`, and `STOPPING=1` on shutdown.
///
/// Outside systemd `NOTIFY_SOCKET` is unset and every call is a no-op, so the same binary runs
/// from a shell or a test unchanged.
public struct SystemdNotifier: Sendable {
    public init() {}

    public func ready(status: String? = nil) {
        send("READY=1" + (status.map { "\nSTATUS=\($0)" } ?? ""))
    }

    public func stopping() {
        send("STOPPING=1")
    }

    public func watchdog() {
        send("WATCHDOG=1")
    }

    /// The watchdog timeout systemd set for this process (`WATCHDOG_USEC`, honouring
    /// `WATCHDOG_PID`), or nil when there is none.
    public func watchdogTimeout() -> Duration? {
        var microseconds: UInt64 = 0
        guard sd_watchdog_enabled(0, &microseconds) > 0, microseconds > 0 else { return nil }
        return .microseconds(Int64(clamping: microseconds))
    }

    /// Pings the watchdog at half its timeout until the calling task is cancelled. Returns at
    /// once when no watchdog is configured. Half the timeout leaves a whole period of slack for
    /// a busy host before systemd declares the service hung and restarts it.
    public func runWatchdog() async {
        guard let timeout = watchdogTimeout() else { return }
        let interval = timeout / 2
        while !Task.isCancelled {
            watchdog()
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
        }
    }

    /// sd_notify returns 0 when NOTIFY_SOCKET is unset and a negative errno on failure; neither
    /// is worth failing the proxy for, since systemd will notice a missing READY by itself.
    private func send(_ state: String) {
        _ = sd_notify(0, state)
    }
}
