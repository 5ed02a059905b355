import ArgumentParser
import Foundation

@main
struct ConfidentialProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "confidential-proxy",
        abstract: "Not built yet: the local OpenAI/Anthropic-compatible proxy that will verify attestation and every signature.",
        discussion: "Until it lands, `gatewayctl attest` and `gatewayctl verify` do the verification by hand."
    )

    func run() async throws {
        FileHandle.standardError.write(Data("confidential-proxy: not built yet; use gatewayctl attest and gatewayctl verify (see README.md)\n".utf8))
        throw ExitCode(1)
    }
}
