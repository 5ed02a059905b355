import Foundation

/// Where a dev appliance keeps its sockets, and how `supervisor ctl` finds it again.
///
/// A dev supervisor makes a fresh private directory per run (short, under /tmp, because Unix
/// socket paths are limited to 107 bytes) and records its control socket in a pointer file at a
/// well-known, per-user place: `$XDG_RUNTIME_DIR/enclave-gateway.control` when that directory
/// exists, else `/tmp/enclave-gateway-<uid>.control`. `supervisor ctl` reads the pointer, so it
/// needs no flags.
public enum RuntimeDirectory {
    public static func pointerFile(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let runtime = environment["XDG_RUNTIME_DIR"], !runtime.isEmpty,
           FileManager.default.fileExists(atPath: runtime)
        {
            return runtime + "/enclave-gateway.control"
        }
        return "/tmp/enclave-gateway-\(getuid()).control"
    }

    /// A new directory `/tmp/enclave-gateway-XXXXXX` with mode 0700.
    public static func makeTemporary() throws(SupervisorError) -> String {
        var template = Array("/tmp/enclave-gateway-XXXXXX".utf8CString)
        guard let result = mkdtemp(&template) else {
            throw .runtimeDirectory("mkdtemp failed: \(String(cString: strerror(errno)))")
        }
        return String(cString: result)
    }

    /// Creates `path` (mode 0700) if missing; an existing directory is used as is. Then proves
    /// it can hold what the appliance writes there, so a read-only or full file system stops the
    /// start with its reason instead of failing later in a child that cannot bind its socket.
    static func create(_ path: String) throws(SupervisorError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw .runtimeDirectory("\(path) exists and is not a directory") }
        } else {
            do {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw .runtimeDirectory("cannot create \(path): \(error)")
            }
        }
        try checkWritable(path)
    }

    /// Writes and removes a 64 KiB file (about what the certificate, the dev root and the
    /// pointer need together); a 0-byte file would succeed on a full disk.
    static func checkWritable(_ path: String) throws(SupervisorError) {
        let probe = path + "/.write-check-\(getpid())"
        let descriptor = open(probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw .runtimeDirectory("\(path) is not writable: \(String(cString: strerror(errno)))")
        }
        defer {
            close(descriptor)
            unlink(probe)
        }
        let block = [UInt8](repeating: 0, count: 64 * 1024)
        var offset = 0
        while offset < block.count {
            let written = block.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            guard written > 0 else {
                let reason = written < 0 ? String(cString: strerror(errno)) : "the file system accepted no more bytes"
                throw .runtimeDirectory("\(path) cannot hold the appliance's files: \(reason)")
            }
            offset += written
        }
        guard fsync(descriptor) == 0 else {
            throw .runtimeDirectory("\(path) cannot hold the appliance's files: \(String(cString: strerror(errno)))")
        }
    }

    /// Records `controlSocket` as the appliance `supervisor ctl` talks to.
    public static func writePointer(controlSocket: String, to pointer: String) throws(SupervisorError) {
        do {
            try (controlSocket + "\n").write(toFile: pointer, atomically: true, encoding: .utf8)
        } catch {
            throw .runtimeDirectory("cannot write the control pointer \(pointer): \(error)")
        }
    }

    /// Removes the pointer if it still names `controlSocket` (a newer appliance may own it).
    public static func removePointer(controlSocket: String, at pointer: String) {
        guard (try? readPointer(pointer)) == controlSocket else { return }
        try? FileManager.default.removeItem(atPath: pointer)
    }

    /// The control socket a pointer names.
    public static func readPointer(_ pointer: String) throws(SupervisorError) -> String {
        guard let text = try? String(contentsOfFile: pointer, encoding: .utf8) else {
            throw .runtimeDirectory("no running appliance found: \(pointer) does not exist (start one with `supervisor --dev`, or pass --control)")
        }
        let socket = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard socket.hasPrefix("/") else { throw .runtimeDirectory("\(pointer) does not name a control socket") }
        return socket
    }
}
