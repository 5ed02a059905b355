import Foundation
import Testing

/// The supervisor's stdout is often a pipe someone else closes (`supervisor | head`, a log
/// shipper that restarts). Lines written after that are lost; the supervisor must not trap.
@Suite struct SupervisorOutputTests {
    @Test func aClosedStdoutLosesLinesInsteadOfCrashingTheSupervisor() throws {
        let directory = try EgressFixtures.temporaryDirectory("closed-stdout")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A start that fails after the supervisor has written several lines: its children start,
        // then a worker refuses an invalid argument, and the supervisor stops everything and exits 1.
        let process = Process()
        process.executableURL = executable("supervisor")
        process.arguments = [
            "--dev", "--port", "0", "--runtime-dir", directory + "/rt", "--workers", "1",
            "--worker-arg=--no-such-worker-option",
        ]
        let output = Pipe(), errors = Pipe()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = errors
        try output.fileHandleForReading.close()  // nobody will ever read stdout
        try process.run()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit, "the supervisor died of a signal: \(stderr)")
        #expect(process.terminationStatus == 1, "\(stderr)")
    }
}
