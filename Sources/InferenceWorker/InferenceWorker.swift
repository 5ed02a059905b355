import ArgumentParser

@main
struct InferenceWorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inference-worker",
        abstract: "The OpenAI- and Anthropic-compatible inference API, signed through key-service."
    )

    func run() async throws {
        print("inference-worker: not available in this build yet; see README.md for what runs today.")
        throw ExitCode(1)
    }
}
