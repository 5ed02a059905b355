import ArgumentParser

@main
struct GatewayCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gatewayctl",
        abstract: "Operator and verifier tool for the enclave gateway.",
        discussion: "Every check it performs uses the same library code as the gateway itself.",
        subcommands: [
            HashCommand.self, AttestCommand.self, VerifyCommand.self, KeysCommand.self, OHTTPCommand.self, EIFCommand.self,
            MeasureCommand.self,
        ]
    )
}
