import ArgumentParser
import EIF
import Foundation
import GatewayCore

/// `gatewayctl measure`: the PCRs of an EIF, or PCR2 alone from customer ramdisks, computed by
/// the EIF library so anyone can check `measurements.txt` without AWS's tools.
struct MeasureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "measure",
        abstract: "Print the PCRs of an EIF (PCR0/1/2, PCR8 when signed), or PCR2 of customer ramdisks.",
        discussion: """
            The file is checked first: magic, version, section table, section order and CRC32; a \
            signed image's signature must verify and cover its PCR0. A truncated, corrupted or \
            inconsistent file is refused with the reason (exit status 2). With --ramdisk, the \
            files are the customer ramdisks in EIF order and only PCR2 is printed.
            """
    )

    @Argument(help: ArgumentHelp("The EIF to measure.", valueName: "file.eif"))
    var file: String?

    @Option(name: .customLong("ramdisk"), help: ArgumentHelp("Compute PCR2 alone from these customer ramdisks (repeatable).", valueName: "file"))
    var ramdisks: [String] = []

    @Flag(help: "Print nitro-cli's measurements JSON instead of PCRn lines.")
    var json = false

    func validate() throws {
        guard (file == nil) != ramdisks.isEmpty else { throw ValidationError("give either an EIF or --ramdisk FILE…, not both or neither") }
    }

    func run() throws {
        if file == nil {
            let pcr2 = EIFMeasurements.pcr2(customerRamdisks: try ramdisks.map { try readEIFInput($0, what: "ramdisk") })
            print(json ? EIFMeasurements.json([(2, pcr2)]) : "PCR2: \(Hex.encode(pcr2))\n", terminator: "")
            return
        }
        let path = file ?? ""
        let measurements: EIFMeasurements
        do {
            measurements = try EIFImage(parsing: try readEIFInput(path, what: "EIF")).measure()
        } catch let error as EIFError {
            throw eifRefusal("\(path): \(error)")
        }
        print(json ? measurements.json() : measurements.lines(), terminator: "")
    }
}
