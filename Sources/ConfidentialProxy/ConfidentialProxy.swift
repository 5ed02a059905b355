import ArgumentParser

@main
struct ConfidentialProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "confidential-proxy",
        abstract: "Local OpenAI/Anthropic-compatible proxy that verifies attestation and every signature."
    )

    func run() async throws {
        print("confidential-proxy: not available in this build yet; see README.md for what runs today.")
        throw ExitCode(1)
    }
}
