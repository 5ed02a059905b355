import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Turns a staged directory into a customer ramdisk: every directory, regular file and symlink
/// under it, sorted by path bytes (so a parent always precedes its children), with modes
/// normalised to what the files need rather than what the build machine's umask left:
/// directories 0755 (01777 when staged with the sticky bit, e.g. `rootfs/tmp`), files 0755 when
/// the owner may execute them and 0644 otherwise, symlinks 0777. Device nodes, FIFOs and
/// sockets are refused: the enclave's `/dev` is a devtmpfs AWS's init mounts.
///
/// File sizes are limited to what newc can describe (under 4 GiB each).
public enum RamdiskTree {
    public static func entries(under root: URL) throws -> [NewcArchive.Entry] {
        let rootPath = root.standardizedFileURL.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: rootPath, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw EIFError.badRamdiskTree(path: rootPath, reason: "not a directory")
        }
        let relativePaths = try FileManager.default.subpathsOfDirectory(atPath: rootPath)
            .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        return try relativePaths.map { relative in
            try entry(relative: relative, fullPath: rootPath + "/" + relative)
        }
    }

    /// The archive bytes for `root`, ready to be a ramdisk section.
    public static func archive(under root: URL) throws -> [UInt8] {
        NewcArchive(entries: try entries(under: root)).encoded()
    }

    private static func entry(relative: String, fullPath: String) throws -> NewcArchive.Entry {
        var status = stat()
        guard lstat(fullPath, &status) == 0 else {
            throw EIFError.badRamdiskTree(path: relative, reason: String(cString: strerror(errno)))
        }
        let mode = UInt32(status.st_mode)
        switch mode & UInt32(S_IFMT) {
        case UInt32(S_IFDIR):
            return .init(path: relative, permissions: mode & UInt32(S_ISVTX) != 0 ? 0o1777 : 0o755, kind: .directory)
        case UInt32(S_IFREG):
            guard status.st_size < Int(UInt32.max) else {
                throw EIFError.badRamdiskTree(path: relative, reason: "\(status.st_size) bytes is too large for a newc archive")
            }
            let data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: fullPath)))
            return .init(path: relative, permissions: mode & UInt32(S_IXUSR) != 0 ? 0o755 : 0o644, kind: .file(data))
        case UInt32(S_IFLNK):
            let target = try FileManager.default.destinationOfSymbolicLink(atPath: fullPath)
            return .init(path: relative, permissions: 0o777, kind: .symlink(target: target))
        default:
            throw EIFError.badRamdiskTree(path: relative, reason: "only directories, regular files and symlinks may go into the ramdisk")
        }
    }
}
