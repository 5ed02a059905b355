import EnclaveIPC
import NIOCore
import Testing

@testable import SupervisorKit

/// The control socket's line handling, without a running appliance (found by the
/// FuzzControlCommand fuzz target: `status\r\n` was answered "unknown command").
@Suite("control command lines")
struct ControlCommandTests {
    @Test func crlfEndsALineLikeLF() {
        #expect(SupervisorControlServer.command(from: ByteBuffer(string: "status\r\n")) == "status")
        #expect(SupervisorControlServer.command(from: ByteBuffer(string: "scale 3\nignored")) == "scale 3")
        #expect(SupervisorControlServer.command(from: ByteBuffer(string: "drain")) == "drain")
        #expect(SupervisorControlServer.command(from: ByteBuffer(string: "\r\n")) == "")
        // Only the CR right before the LF is a line end; one inside the line still separates words.
        #expect(SupervisorControlServer.command(from: ByteBuffer(string: "status\r\r\n")) == "status\r")
    }

    @Test func aCRLFCommandRunsOnTheSupervisor() async throws {
        let supervisor = Supervisor(
            configuration: SupervisorConfiguration(
                programs: .init(directory: "/nonexistent"), runtimeDirectory: "/nonexistent/runtime",
                listen: try Endpoint.tcp(host: "127.0.0.1", port: 0)),
            output: { _ in })
        let status = await SupervisorControlServer.execute(
            SupervisorControlServer.command(from: ByteBuffer(string: "status\r\n")), on: supervisor)
        #expect(status.hasPrefix("ok\nappliance starting"), "\(status)")
        let scale = await SupervisorControlServer.execute(
            SupervisorControlServer.command(from: ByteBuffer(string: "scale 2\r\n")), on: supervisor)
        #expect(scale == "error the appliance is still starting", "\(scale)")
    }

    /// In dev every client is a local process on 127.0.0.1: tls-front gets no per-address cap
    /// there (a load test stopped at 1,024 streams), and keeps its default elsewhere.
    @Test func devLiftsTLSFrontsPerClientCap() async throws {
        for dev in [true, false] {
            let supervisor = Supervisor(
                configuration: SupervisorConfiguration(
                    programs: .init(directory: "/nonexistent"), runtimeDirectory: "/nonexistent/runtime",
                    listen: try Endpoint.tcp(host: "127.0.0.1", port: 0), dev: dev),
                output: { _ in })
            let (_, arguments) = await supervisor.arguments(for: "tls-front", role: .tlsFront)
            let lifted = arguments.indices.contains { i in
                i + 1 < arguments.count && arguments[i] == "--max-connections-per-client" && arguments[i + 1] == "0"
            }
            #expect(lifted == dev, "\(arguments)")
        }
    }
}
