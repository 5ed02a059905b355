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

    /// Creates `path` (mode 0700) if missing; an existing directory is used as is.
    static func create(_ path: String) throws(SupervisorError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw .runtimeDirectory("\(path) exists and is not a directory") }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw .runtimeDirectory("cannot create \(path): \(error)")
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
