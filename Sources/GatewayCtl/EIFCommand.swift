import ArgumentParser
import EIF
import Foundation
import GatewayCore

/// `gatewayctl eif …`: assemble enclave images and customer ramdisks. The logic is the EIF
/// library's; this file only reads files, calls it and prints.
struct EIFCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eif",
        abstract: "Build enclave images (EIF) and customer ramdisks without Docker or nitro-cli.",
        subcommands: [Build.self, Ramdisk.self]
    )

    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write an EIF laid out as nitro-cli writes it and print its PCRs.",
            discussion: """
                Sections: kernel, cmdline, metadata, the ramdisks in the order given (the first is \
                AWS's bootstrap ramdisk, the rest are customer ramdisks measured into PCR2), and a \
                signature over PCR0 when a P-384 key and its certificate are given (PCR8). The \
                metadata's BuildTime comes from SOURCE_DATE_EPOCH when set, so rebuilding with the \
                same inputs gives the same file. Exit status 2 when an input is unusable.
                """
        )

        @Option(help: ArgumentHelp("The kernel image (bzImage), e.g. /usr/share/nitro_enclaves/blobs/bzImage.", valueName: "file"))
        var kernel: String

        @Option(help: ArgumentHelp("The kernel command line, e.g. the contents of the blobs' cmdline file.", valueName: "text"))
        var cmdline: String

        @Option(name: .customLong("ramdisk"), help: ArgumentHelp("A ramdisk; repeat it: bootstrap ramdisk first, then customer ramdisks.", valueName: "file"))
        var ramdisks: [String] = []

        @Option(name: .customLong("signing-certificate"), help: ArgumentHelp("PEM certificate of the signing key (PCR8).", valueName: "pem"))
        var signingCertificate: String?

        @Option(name: .customLong("signing-key"), help: ArgumentHelp("PEM P-384 private key that signs PCR0.", valueName: "pem"))
        var signingKey: String?

        @Option(help: ArgumentHelp("Default enclave memory in MiB recorded in the header.", valueName: "MiB"))
        var memory: UInt64 = 1024

        @Option(help: "Default enclave vCPU count recorded in the header.")
        var cpus: UInt64 = 2

        @Flag(help: "Mark the image as aarch64 (header flag); the default is x86_64.")
        var aarch64 = false

        @Option(name: .customLong("image-name"), help: "ImageName in the metadata section.")
        var imageName = "enclave-gateway"

        @Option(name: .customLong("image-version"), help: "ImageVersion in the metadata section (e.g. the commit).")
        var imageVersion = "1.0"

        @Option(help: ArgumentHelp("Where to write the EIF.", valueName: "file"))
        var output: String

        @Flag(help: "Print nitro-cli's measurements JSON instead of PCRn lines.")
        var json = false

        func validate() throws {
            guard !ramdisks.isEmpty else { throw ValidationError("give at least one --ramdisk (the bootstrap ramdisk first)") }
            guard (signingCertificate == nil) == (signingKey == nil) else {
                throw ValidationError("--signing-certificate and --signing-key go together")
            }
            guard memory > 0, memory <= 1 << 40, cpus > 0 else { throw ValidationError("--memory and --cpus must be positive") }
        }

        func run() throws {
            let signer: EIFSigner?
            if let signingCertificate, let signingKey {
                let certificate = try readEIFInput(signingCertificate, what: "signing certificate")
                let key = String(decoding: try readEIFInput(signingKey, what: "signing key"), as: UTF8.self)
                do { signer = try EIFSigner(certificatePEM: certificate, keyPEM: key) } catch { throw eifRefusal("\(error)") }
            } else {
                signer = nil
            }
            var builder = EIFBuilder(
                kernel: try readEIFInput(kernel, what: "kernel"),
                cmdline: cmdline,
                ramdisks: try ramdisks.map { try readEIFInput($0, what: "ramdisk") },
                metadata: EIFMetadata(imageName: imageName, imageVersion: imageVersion, buildTime: buildTime()),
                signer: signer
            )
            builder.flags = aarch64 ? EIFHeader.arm64Flag : 0
            builder.defaultMemoryMiB = memory
            builder.defaultCPUs = cpus
            let built: (image: EIFImage, measurements: EIFMeasurements)
            do { built = try builder.build() } catch { throw eifRefusal("\(error)") }
            try writeEIFOutput(built.image.encoded(), to: output)
            print(json ? built.measurements.json() : built.measurements.lines(), terminator: "")
        }
    }

    struct Ramdisk: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a staged directory as a deterministic newc cpio (a customer ramdisk) and print its PCR2.",
            discussion: """
                Entries are sorted by path; owners are root, mtimes 0, modes normalised (directories \
                0755 or 01777 when sticky, files 0755 when executable else 0644), so the archive \
                depends only on the files' contents and names. scripts/build-eif stages the tree.
                """
        )

        @Option(help: ArgumentHelp("The directory whose contents become the archive's root (rootfs/, cmd, env).", valueName: "dir"))
        var root: String

        @Option(help: ArgumentHelp("Where to write the cpio.", valueName: "file"))
        var output: String

        func run() throws {
            let archive: [UInt8]
            do { archive = try RamdiskTree.archive(under: URL(fileURLWithPath: root)) } catch { throw eifRefusal("\(error)") }
            try writeEIFOutput(archive, to: output)
            print("PCR2: \(Hex.encode(EIFMeasurements.pcr2(customerRamdisks: [archive])))")
        }
    }
}

/// The metadata BuildTime: SOURCE_DATE_EPOCH (reproducible builds' convention) or now.
private func buildTime() -> String {
    let seconds = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"].flatMap(Int.init) ?? Int(Date().timeIntervalSince1970)
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss'+00:00'"
    return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
}

func readEIFInput(_ path: String, what: String) throws -> [UInt8] {
    do { return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)) } catch {
        throw eifRefusal("cannot read the \(what) \(path): \(error.localizedDescription)")
    }
}

func writeEIFOutput(_ bytes: [UInt8], to path: String) throws {
    do { try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
        throw eifRefusal("cannot write \(path): \(error.localizedDescription)")
    }
}

/// An unusable input is the caller's mistake, not a crash: the reason on stderr, exit status 2.
func eifRefusal(_ message: String) -> Error {
    try? FileHandle.standardError.write(contentsOf: Data("gatewayctl: \(message)\n".utf8))
    return ExitCode(2)
}
