import Crypto
import GatewayCore

/// The PCRs a Nitro Enclave reports for an EIF, computed the way nitro-cli computes them: each
/// register starts at 48 zero bytes and is extended once with the SHA-384 of everything it
/// covers, so `PCR = SHA384(0^48 ‖ SHA384(data))`.
///
/// - PCR0: kernel ‖ cmdline ‖ every ramdisk (the whole image).
/// - PCR1: kernel ‖ cmdline ‖ the first (bootstrap) ramdisk: AWS's part.
/// - PCR2: every ramdisk after the first: our customer ramdisk, the part we build reproducibly.
/// - PCR8: the signing certificate's DER, for signed images only.
///
/// Section headers, the metadata section and the signature are in no PCR.
public struct EIFMeasurements: Sendable, Equatable {
    public var pcr0: [UInt8]
    public var pcr1: [UInt8]
    public var pcr2: [UInt8]
    public var pcr8: [UInt8]?

    public init(kernel: [UInt8], cmdline: [UInt8], ramdisks: [[UInt8]], signingCertificateDER: [UInt8]?) {
        var image = SHA384()
        var bootstrap = SHA384()
        for part in [kernel, cmdline] {
            image.update(data: part)
            bootstrap.update(data: part)
        }
        for (index, ramdisk) in ramdisks.enumerated() {
            image.update(data: ramdisk)
            if index == 0 { bootstrap.update(data: ramdisk) }
        }
        pcr0 = Self.extend(image.finalize())
        pcr1 = Self.extend(bootstrap.finalize())
        pcr2 = Self.pcr2(customerRamdisks: ramdisks.dropFirst())
        pcr8 = signingCertificateDER.map { Self.extend(SHA384.hash(data: $0)) }
    }

    public init(image: EIFImage, signingCertificateDER: [UInt8]?) {
        self.init(kernel: image.kernel, cmdline: image.cmdline, ramdisks: image.ramdisks, signingCertificateDER: signingCertificateDER)
    }

    /// PCR2 alone, from the customer ramdisks (everything after AWS's bootstrap ramdisk), so a
    /// third party can check it from a rebuilt ramdisk without AWS's blobs.
    public static func pcr2(customerRamdisks: some Sequence<[UInt8]>) -> [UInt8] {
        var hasher = SHA384()
        for ramdisk in customerRamdisks { hasher.update(data: ramdisk) }
        return extend(hasher.finalize())
    }

    /// One TPM-style extend of a zeroed register: `SHA384(0^48 ‖ digest)`.
    public static func extend(_ digest: SHA384.Digest) -> [UInt8] {
        var hasher = SHA384()
        hasher.update(data: [UInt8](repeating: 0, count: SHA384.byteCount))
        hasher.update(data: Array(digest))
        return Array(hasher.finalize())
    }

    /// `(index, value)` pairs in register order, PCR8 only when signed.
    public var registers: [(index: Int, value: [UInt8])] {
        var result: [(index: Int, value: [UInt8])] = [(0, pcr0), (1, pcr1), (2, pcr2)]
        if let pcr8 { result.append((8, pcr8)) }
        return result
    }

    /// `PCRn: <96 hex>` lines, the text `gatewayctl measure` and `eif build` print.
    public func lines() -> String {
        registers.map { "PCR\($0.index): \(Hex.encode($0.value))\n" }.joined()
    }

    /// nitro-cli's JSON (`{"Measurements": {"HashAlgorithm": …, "PCR0": …}}`), which
    /// `gatewayctl attest --measurements` reads.
    public func json() -> String {
        Self.json(registers)
    }

    /// The same JSON for any subset of registers (e.g. PCR2 alone from a ramdisk).
    public static func json(_ registers: [(index: Int, value: [UInt8])]) -> String {
        let fields = [#"    "HashAlgorithm": "Sha384 { ... }""#] + registers.map { #"    "PCR\#($0.index)": "\#(Hex.encode($0.value))""# }
        return "{\n  \"Measurements\": {\n" + fields.joined(separator: ",\n") + "\n  }\n}\n"
    }
}
