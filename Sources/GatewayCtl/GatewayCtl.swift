import ArgumentParser

@main
struct GatewayCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gatewayctl",
        abstract: "Operator and verifier tool for the enclave gateway."
    )
}
