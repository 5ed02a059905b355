import Foundation
import Testing

@testable import SupervisorKit

/// Where the appliance keeps its sockets: the pointer `supervisor ctl` follows, and a directory
/// that cannot hold the appliance's files stopping the start with the reason.
@Suite("runtime directory", .serialized)
struct RuntimeDirectoryTests {
    @Test func pointerFileLocation() throws {
        let existing = FileManager.default.temporaryDirectory.path
        #expect(RuntimeDirectory.pointerFile(environment: ["XDG_RUNTIME_DIR": existing]) == existing + "/enclave-gateway.control")
        #expect(RuntimeDirectory.pointerFile(environment: [:]) == "/tmp/enclave-gateway-\(getuid()).control")
        #expect(RuntimeDirectory.pointerFile(environment: ["XDG_RUNTIME_DIR": "/nonexistent-xdg"]) == "/tmp/enclave-gateway-\(getuid()).control")
    }

    @Test func pointerRoundTripAndOwnership() throws {
        let directory = try RuntimeDirectory.makeTemporary()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pointer = directory + "/pointer"
        try RuntimeDirectory.writePointer(controlSocket: "/tmp/a/supervisor.ctl", to: pointer)
        #expect(try RuntimeDirectory.readPointer(pointer) == "/tmp/a/supervisor.ctl")
        RuntimeDirectory.removePointer(controlSocket: "/tmp/b/supervisor.ctl", at: pointer)
        #expect(FileManager.default.fileExists(atPath: pointer), "another appliance's pointer is left alone")
        RuntimeDirectory.removePointer(controlSocket: "/tmp/a/supervisor.ctl", at: pointer)
        #expect(!FileManager.default.fileExists(atPath: pointer))
        #expect(throws: SupervisorError.self) { try RuntimeDirectory.readPointer(pointer) }
    }

    @Test func anUnwritableDirectoryIsRefusedWithTheReason() throws {
        // sysfs refuses new files even to root, which the test suite runs as in CI.
        #expect {
            try RuntimeDirectory.create("/sys/kernel")
        } throws: { error in
            "\(error)".contains("/sys/kernel is not writable")
        }
    }

    @Test func aPathThatIsAFileIsRefused() throws {
        #expect {
            try RuntimeDirectory.create("/etc/hostname")
        } throws: { error in
            "\(error)".contains("exists and is not a directory")
        }
    }

    /// A 16 KiB tmpfs is full before the 64 KiB probe is written: the start fails naming it.
    /// Mounting needs root, which CI has (the project's tests run as root, see docs/operations.md).
    @Test func aFullFileSystemIsRefusedWithTheReason() throws {
        let directory = try #require(mkdtemp(strdup("/tmp/runtime-full-XXXXXX")).map { String(cString: $0) })
        defer { rmdir(directory) }
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=16k", "tmpfs", directory]
        try mount.run()
        mount.waitUntilExit()
        try #require(mount.terminationStatus == 0, "mounting a tmpfs needs root (uid \(getuid()))")
        defer {
            let umount = Process()
            umount.executableURL = URL(fileURLWithPath: "/bin/umount")
            umount.arguments = [directory]
            try? umount.run()
            umount.waitUntilExit()
        }
        #expect {
            try RuntimeDirectory.create(directory)
        } throws: { error in
            "\(error)".contains("cannot hold the appliance's files") && "\(error)".contains("No space left")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty, "the probe file was left behind")
    }

    @Test func aWritableDirectoryIsAcceptedAndLeftClean() throws {
        let directory = try #require(mkdtemp(strdup("/tmp/runtime-ok-XXXXXX")).map { String(cString: $0) })
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try RuntimeDirectory.create(directory)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }
}
