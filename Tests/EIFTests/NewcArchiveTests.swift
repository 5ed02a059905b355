import EIF
import Foundation
import Testing

/// Our cpio is read back by Debian's `cpio`, which is not our code, and must not depend on the
/// machine that staged the files.
@Suite struct NewcArchiveTests {
    /// A small ramdisk tree as scripts/build-eif stages one.
    static func stage(in directory: URL, umask mask: mode_t, mtime: Date) throws {
        let previous = umask(mask)
        defer { umask(previous) }
        let fm = FileManager.default
        for dir in ["rootfs/usr/bin", "rootfs/etc/ssl/certs", "rootfs/dev", "rootfs/proc", "rootfs/tmp", "rootfs/lib"] {
            try fm.createDirectory(at: directory.appendingPathComponent(dir), withIntermediateDirectories: true)
        }
        chmod(directory.appendingPathComponent("rootfs/tmp").path, 0o1777)
        let files: [(String, [UInt8], Bool)] = [
            ("cmd", Array("/usr/bin/supervisor\n--workers\n2\n".utf8), false),
            ("env", Array("PATH=/usr/bin:/bin\n".utf8), false),
            ("rootfs/usr/bin/supervisor", Synthetic.bytes(4099, seed: 9), true),
            ("rootfs/etc/ssl/certs/ca-certificates.crt", Array("-----BEGIN CERTIFICATE-----\n".utf8), false),
            ("rootfs/lib/libempty.so", [], false),
        ]
        for (path, bytes, executable) in files {
            let url = directory.appendingPathComponent(path)
            try Data(bytes).write(to: url)
            if executable { chmod(url.path, 0o700) }
            try fm.setAttributes([.modificationDate: mtime], ofItemAtPath: url.path)
        }
        try fm.createSymbolicLink(atPath: directory.appendingPathComponent("rootfs/lib/libempty.so.1").path, withDestinationPath: "libempty.so")
    }

    @Test func stagingMachineDetailsDoNotReachTheArchive() throws {
        let first = try Tools.temporaryDirectory(), second = try Tools.temporaryDirectory()
        defer { for d in [first, second] { try? FileManager.default.removeItem(at: d) } }
        try Self.stage(in: first, umask: 0o022, mtime: Date(timeIntervalSince1970: 1))
        try Self.stage(in: second, umask: 0o077, mtime: Date())
        let a = try RamdiskTree.archive(under: first)
        let b = try RamdiskTree.archive(under: second)
        #expect(a == b)
        #expect(a.count % 4 == 0)
    }

    @Test func debianCpioListsAndExtractsIt() throws {
        let staged = try Tools.temporaryDirectory(), out = try Tools.temporaryDirectory()
        defer { for d in [staged, out] { try? FileManager.default.removeItem(at: d) } }
        try Self.stage(in: staged, umask: 0o022, mtime: Date())
        let archive = staged.deletingLastPathComponent().appendingPathComponent("\(staged.lastPathComponent).cpio")
        defer { try? FileManager.default.removeItem(at: archive) }
        try Data(try RamdiskTree.archive(under: staged)).write(to: archive)

        // `cpio -t` prints the names in archive order: sorted, parents first.
        let list = try Tools.run("sh", ["-c", "cpio -t --quiet < '\(archive.path)'"])
        try #require(list.status == 0, "cpio -t failed (Debian package cpio): \(list.stderr)")
        let names = list.text.split(separator: "\n").map(String.init)
        #expect(names.first == "cmd")
        #expect(names == names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
        #expect(names.contains("rootfs/usr/bin/supervisor") && names.contains("env") && names.contains("rootfs/proc"))

        // `cpio -tv`: owners root, mtime the epoch, normalised modes.
        let verbose = try Tools.run("sh", ["-c", "TZ=UTC cpio -tv --quiet --numeric-uid-gid < '\(archive.path)'"])
        let lines = verbose.text.split(separator: "\n").map(String.init)
        let line = { (name: String) in lines.first { $0.hasSuffix(" " + name) || $0.contains(" " + name + " -> ") } ?? "" }
        #expect(line("rootfs/usr/bin/supervisor").hasPrefix("-rwxr-xr-x   1 0        0"))
        #expect(line("env").hasPrefix("-rw-r--r--   1 0        0"))
        #expect(line("rootfs/tmp").hasPrefix("drwxrwxrwt"))
        #expect(line("rootfs/dev").hasPrefix("drwxr-xr-x"))
        #expect(line("rootfs/lib/libempty.so.1").hasPrefix("lrwxrwxrwx"))
        #expect(line("cmd").contains("1970"))

        // `cpio -i` extracts the same bytes.
        let extract = try Tools.run("sh", ["-c", "cpio -i -d --quiet --no-absolute-filenames < '\(archive.path)'"], in: out)
        try #require(extract.status == 0, "\(extract.stderr)")
        for path in ["cmd", "env", "rootfs/usr/bin/supervisor", "rootfs/etc/ssl/certs/ca-certificates.crt", "rootfs/lib/libempty.so"] {
            #expect(try Data(contentsOf: out.appendingPathComponent(path)) == Data(contentsOf: staged.appendingPathComponent(path)), "\(path)")
        }
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: out.appendingPathComponent("rootfs/lib/libempty.so.1").path) == "libempty.so")
    }

    @Test func devicesAndFIFOsAreRefused() throws {
        let staged = try Tools.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: staged) }
        #expect(mkfifo(staged.appendingPathComponent("pipe").path, 0o644) == 0)
        #expect(
            refusal { try RamdiskTree.archive(under: staged) }
                == .badRamdiskTree(path: "pipe", reason: "only directories, regular files and symlinks may go into the ramdisk"))
        #expect(refusal { try RamdiskTree.archive(under: staged.appendingPathComponent("missing")) }?.description.hasSuffix("not a directory") == true)
    }
}
