/// Assembles an EIF the way `nitro-cli build-enclave` does: measure kernel, cmdline and
/// ramdisks, sign PCR0 when a signer is given, then lay the sections out in nitro-cli's order.
public struct EIFBuilder: Sendable {
    public var kernel: [UInt8]
    /// The kernel command line, stored without a terminating NUL (as upstream stores it).
    public var cmdline: String
    /// The bootstrap ramdisk (AWS's init + nsm.ko) first, then the customer ramdisks.
    public var ramdisks: [[UInt8]]
    public var metadata: EIFMetadata
    public var signer: EIFSigner?
    public var flags: UInt16 = 0
    public var defaultMemoryMiB: UInt64 = 1024
    public var defaultCPUs: UInt64 = 2

    public init(kernel: [UInt8], cmdline: String, ramdisks: [[UInt8]], metadata: EIFMetadata, signer: EIFSigner? = nil) {
        self.kernel = kernel
        self.cmdline = cmdline
        self.ramdisks = ramdisks
        self.metadata = metadata
        self.signer = signer
    }

    public func build() throws -> (image: EIFImage, measurements: EIFMeasurements) {
        guard !ramdisks.isEmpty else { throw EIFError.badLayout("an EIF needs at least one ramdisk (the bootstrap one)") }
        let cmdlineBytes = Array(cmdline.utf8)
        guard !cmdlineBytes.contains(0) else { throw EIFError.badLayout("the cmdline contains a NUL byte") }
        let measurements = EIFMeasurements(
            kernel: kernel, cmdline: cmdlineBytes, ramdisks: ramdisks, signingCertificateDER: signer?.certificateDER)
        let signature = try signer?.signatureSection(pcr0: measurements.pcr0).encoded()
        let sections = EIFImage.nitroCLIOrder(
            kernel: kernel, cmdline: cmdlineBytes, metadata: metadata.encoded(), ramdisks: ramdisks, signature: signature)
        let image = try EIFImage(sections: sections, flags: flags, defaultMemoryMiB: defaultMemoryMiB, defaultCPUs: defaultCPUs)
        return (image, measurements)
    }
}

extension EIFImage {
    /// PCR0/1/2 of this image and, when it carries a signature section, PCR8 after checking
    /// that the signature verifies under its certificate and covers this image's PCR0.
    public func measure() throws(EIFError) -> EIFMeasurements {
        var measurements = EIFMeasurements(image: self, signingCertificateDER: nil)
        if let signature {
            let section = try EIFSignatureSection(decoding: signature)
            try section.verify(pcr0: measurements.pcr0)
            measurements = EIFMeasurements(image: self, signingCertificateDER: try section.certificateDER())
        }
        return measurements
    }
}
