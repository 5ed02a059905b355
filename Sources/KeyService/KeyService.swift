import ArgumentParser

@main
struct KeyServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key-service",
        abstract: "Holds the signing key, OHTTP keys and injected secrets; the only process that talks to the NSM."
    )

    func run() async throws {
        print("key-service: not available in this build yet; see README.md for what runs today.")
        throw ExitCode(1)
    }
}
