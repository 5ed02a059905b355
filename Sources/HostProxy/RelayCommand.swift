import ArgumentParser
import EnclaveIPC
import Foundation
import HostProxyKit
import Logging

/// `host-proxy relay`: the OHTTP relay in front of a gateway (see `OHTTPRelay`).
struct Relay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "OHTTP relay (RFC 9458 §6): forwards POSTed message/ohttp-* bodies to the gateway's /v1/ohttp, adding no client identity.",
        discussion: """
            Clients (confidential-proxy with PROXY_URL=http://HOST:PORT) post encapsulated requests to /v1/ohttp \
            or /; the relay sends only the body and its content type on to GATEWAY/v1/ohttp and returns the answer \
            unchanged, streamed. No Forwarded or X-Forwarded-For, no client address, no other client header is \
            passed on, and bodies are never logged. Anything else gets 404, 405, 413 or 415. Listen on loopback \
            and put TLS in front of it to expose it; --gateway-ca trusts a self-signed gateway certificate.
            """
    )

    @Option(help: ArgumentHelp("Where to accept clients.", valueName: "tcp://HOST:PORT"))
    var listen: String

    @Option(help: ArgumentHelp("The gateway the ciphertext goes to.", valueName: "https://HOST[:PORT]"))
    var gateway: String

    @Option(help: ArgumentHelp("PEM certificates to trust for the gateway instead of the system roots.", valueName: "pem-file"))
    var gatewayCa: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func run() async throws {
        let host: String
        let port: UInt16
        do {
            guard case .tcp(let parsedHost, let parsedPort) = try Endpoint(parsing: listen).address else {
                throw ValidationError("--listen: the relay listens on tcp://HOST:PORT")
            }
            (host, port) = (parsedHost, parsedPort)
        } catch let error as EndpointError {
            throw ValidationError("--listen: \(error)")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = logLevel
            return handler
        }
        var logger = Logger(label: "host-proxy.relay")
        logger.logLevel = logLevel
        let relay: OHTTPRelay
        do { relay = try OHTTPRelay(gateway: gateway, logger: logger) } catch { throw ValidationError(error.description) }
        try await relay.run(host: host, port: Int(port), gatewayCA: gatewayCa)
    }
}
