import Foundation
import Testing

@testable import SupervisorKit

/// The supervisor raises its open-file limit before starting children, which inherit it.
/// Serialized: the tests change this process's own limit.
@Suite(.serialized) struct FileDescriptorLimitTests {
    /// Lowers the soft limit (always allowed) so that `raise()` has something to do.
    private func lowerSoftLimit(to value: UInt64) throws {
        var limit = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        limit.rlim_cur = rlim_t(value)
        #expect(setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0)
    }

    @Test func raisesTheLimitAsFarAsAllowedAndReportsIt() throws {
        try lowerSoftLimit(to: 256)
        let raised = FileDescriptorLimit.raise()
        #expect(raised.failure == nil)
        #expect(raised.before.soft == 256)
        #expect(raised.description.contains("raised to"))
        let now = FileDescriptorLimit.current()
        #expect(raised.after == now)
        let ceiling = FileDescriptorLimit.kernelCeiling()
        if now.hard > raised.before.hard {
            // Allowed to raise the hard limit (root with CAP_SYS_RESOURCE): both went to the ceiling.
            #expect(now.soft == ceiling && now.hard == ceiling)
        } else {
            // Not allowed (an unprivileged or a container's root): the soft limit went to the hard one.
            #expect(now.soft == min(raised.before.hard, ceiling))
            #expect(now.hard == raised.before.hard)
        }
        // A second call finds nothing left to raise and says so.
        let again = FileDescriptorLimit.raise()
        #expect(again.before == again.after)
        #expect(again.description.contains("already as high as allowed"))
    }

    @Test func theKernelCeilingIsTheOneLinuxReports() throws {
        let text = try String(contentsOfFile: "/proc/sys/fs/nr_open", encoding: .utf8)
        #expect(FileDescriptorLimit.kernelCeiling() == UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    @Test func aChildProcessInheritsTheRaisedLimit() throws {
        try lowerSoftLimit(to: 300)
        let raised = FileDescriptorLimit.raise()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "ulimit -n"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        process.waitUntilExit()
        let printed = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(raised.after.soft > 300)
        #expect(printed == String(raised.after.soft) || (printed == "unlimited" && raised.after.soft == FileDescriptorLimit.unlimited))
    }
}
