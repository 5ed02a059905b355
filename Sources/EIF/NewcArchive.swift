/// The "new ASCII" cpio format (`070701`) that the Linux kernel unpacks as an initramfs and
/// that AWS's init expects in a customer ramdisk. Each entry is a 110-byte header of 13 fields
/// written as 8 hex digits, the NUL-terminated name padded to 4 bytes, then the data padded to 4
/// bytes; the archive ends with a `TRAILER!!!` entry.
///
/// Written by hand so the archive depends only on the entries: every owner is root, every
/// mtime is 0, inode numbers count up in order, and nothing from the build machine (umask,
/// timestamps, directory order, host uid) can reach it.
public struct NewcArchive: Sendable {
    public enum Kind: Sendable, Equatable {
        case directory
        case file([UInt8])
        case symlink(target: String)
    }

    public struct Entry: Sendable, Equatable {
        /// Relative path without a leading `/` or `./`, e.g. `rootfs/usr/bin/supervisor`.
        public var path: String
        /// Permission bits only (e.g. 0o755); the file type comes from `kind`.
        public var permissions: UInt32
        public var kind: Kind

        public init(path: String, permissions: UInt32, kind: Kind) {
            self.path = path
            self.permissions = permissions
            self.kind = kind
        }
    }

    static let magic = "070701"
    static let trailer = "TRAILER!!!"

    public var entries: [Entry]

    /// Entries are written in the given order; ``RamdiskTree`` sorts them.
    public init(entries: [Entry]) {
        self.entries = entries
    }

    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        for (index, entry) in entries.enumerated() {
            let data: [UInt8]
            let type: UInt32
            let links: UInt32
            switch entry.kind {
            case .directory: (data, type, links) = ([], 0o040000, 2)
            case .file(let bytes): (data, type, links) = (bytes, 0o100000, 1)
            case .symlink(let target): (data, type, links) = (Array(target.utf8), 0o120000, 1)
            }
            Self.append(name: entry.path, inode: UInt32(index + 1), mode: type | (entry.permissions & 0o7777), links: links, data: data, to: &out)
        }
        Self.append(name: Self.trailer, inode: 0, mode: 0, links: 1, data: [], to: &out)
        return out
    }

    private static func append(name: String, inode: UInt32, mode: UInt32, links: UInt32, data: [UInt8], to out: inout [UInt8]) {
        let nameBytes = Array(name.utf8) + [0]
        // ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check
        let fields: [UInt32] = [inode, mode, 0, 0, links, 0, UInt32(data.count), 0, 0, 0, 0, UInt32(nameBytes.count), 0]
        out.append(contentsOf: magic.utf8)
        for field in fields {
            let digits = String(field, radix: 16, uppercase: true)
            out.append(contentsOf: (String(repeating: "0", count: 8 - digits.count) + digits).utf8)
        }
        out.append(contentsOf: nameBytes)
        pad(&out)
        out.append(contentsOf: data)
        pad(&out)
    }

    private static func pad(_ out: inout [UInt8]) {
        while out.count % 4 != 0 { out.append(0) }
    }
}
