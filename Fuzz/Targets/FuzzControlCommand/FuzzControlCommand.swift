import Dispatch
import EnclaveIPC
import FuzzSupport
import NIOCore

@testable import SupervisorKit

/// The supervisor's control-command parser, as the control socket runs it: the first line of
/// what the client sent, split into words and dispatched. The supervisor is constructed but
/// never started, so no command can start or stop a process; every command that needs a
/// running appliance must then be refused with a clear error rather than act or crash.
///
/// Invariants: no word keeps a CR or LF; every reply starts with `ok` or `error `; only `status` and `shutdown` (exactly
/// one word each) succeed on a supervisor that has not started; replies are bounded.
let supervisor = Supervisor(
    configuration: SupervisorConfiguration(
        programs: SupervisorConfiguration.Programs(directory: "/nonexistent"),
        runtimeDirectory: "/nonexistent/runtime",
        listen: try! Endpoint.unix(path: "/nonexistent/runtime/listen.sock")
    ),
    output: { _ in }
)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = FuzzDriver.bytes(data, size)
    // What SupervisorControlServer.handle does with the bytes it read.
    let line = ByteBuffer(bytes: input.prefix(SupervisorControlServer.maximumLineBytes + 1))
    let command = SupervisorControlServer.command(from: line)
    let reply = run(command)
    let words = command.split(whereSeparator: { $0 == " " || $0 == "\r" || $0 == "\t" })
    // Line ends and blanks separate words, however the client ended its line (`nc -C` and
    // telnet send CRLF): no word may keep a CR or LF.
    for word in words {
        FuzzDriver.require(!word.unicodeScalars.contains { $0 == "\r" || $0 == "\n" }, "word \(word.debugDescription) keeps a line break")
    }
    // The read-only commands (and shutdown, which needs nothing started) answer ok; `metrics`
    // answers with whatever exposition there is, none of the children's before start.
    if words == ["status"] || words == ["shutdown"] || words == ["metrics"] {
        FuzzDriver.require(reply.hasPrefix("ok"), "'\(command)' answered \(reply)")
    } else {
        FuzzDriver.require(reply.hasPrefix("error "), "'\(command)' on a supervisor that never started answered \(reply)")
    }
    // No reply echoes a command back amplified; `metrics` answers with the supervisor's own
    // exposition, whose size does not depend on the command.
    let bound = words == ["metrics"] ? 64 * 1024 : 2 * command.utf8.count + 512
    FuzzDriver.require(reply.utf8.count <= bound, "reply of \(reply.utf8.count) bytes")
    return 0
}

final class Box: @unchecked Sendable { var reply = "" }

/// Runs the async command to completion on the calling thread.
func run(_ command: String) -> String {
    let box = Box()
    let done = DispatchSemaphore(value: 0)
    Task {
        box.reply = await SupervisorControlServer.execute(command, on: supervisor)
        done.signal()
    }
    done.wait()
    return box.reply
}

@main enum Main { static func main() { FuzzDriver.run(fuzz) } }
