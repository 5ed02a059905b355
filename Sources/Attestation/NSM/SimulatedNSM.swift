import Foundation

/// An NSM for dev mode and tests that produces documents shaped like real ones (same fields,
/// same key order, PCRs 0-15 of 48 bytes, absent values as null, untagged COSE_Sign1, ES384)
/// but signed by a `DevCertificateAuthority` that only an explicit `--dev-root` makes trusted.
/// The payload map uses deterministic definite-length encoding where current NSM firmware
/// sends an indefinite-length map; both decode to the same document.
///
/// PCRs come from a measurements file (so a dev appliance can pass a PCR policy) or a
/// dictionary; any PCR not given is zero, which is what a debug-mode enclave reports.
public struct SimulatedNSM: NSMInterface {
    public static let pcrCount = 16
    public static let pcrLength = 48

    public let authority: DevCertificateAuthority
    public let moduleID: String
    public let pcrs: [Int: [UInt8]]

    public init(
        pcrs given: [Int: [UInt8]] = [:], authority: DevCertificateAuthority,
        moduleID: String = "i-00000000000000000-enc0000000000000000"
    ) throws(NSMError) {
        var pcrs: [Int: [UInt8]] = [:]
        for index in 0..<Self.pcrCount { pcrs[index] = [UInt8](repeating: 0, count: Self.pcrLength) }
        for (index, value) in given {
            guard pcrs[index] != nil, value.count == Self.pcrLength else {
                throw .invalidPCR(index: index, length: value.count)
            }
            pcrs[index] = value
        }
        self.authority = authority
        self.moduleID = moduleID
        self.pcrs = pcrs
    }

    public init(measurements: Measurements, authority: DevCertificateAuthority) throws(NSMError) {
        try self.init(pcrs: measurements.pcrs, authority: authority)
    }

    public func attest(nonce: [UInt8]?, userData: [UInt8]?, publicKey: [UInt8]?) throws(NSMError) -> [UInt8] {
        guard (nonce?.count ?? 0) <= AttestationDocument.nonceLength.upperBound,
            (userData?.count ?? 0) <= AttestationDocument.userDataLength.upperBound,
            (publicKey?.count ?? 0) <= AttestationDocument.publicKeyLength.upperBound
        else { throw .moduleError(.inputTooLarge) }
        if let publicKey, publicKey.isEmpty { throw .moduleError(.invalidArgument) }

        let now = Date()
        do {
            let leaf = try authority.issueLeaf(commonName: "\(moduleID).dev", now: now)
            let document = AttestationDocument(
                moduleID: moduleID, timestamp: UInt64(now.timeIntervalSince1970 * 1000), pcrs: pcrs,
                certificate: leaf.certificate, cabundle: try authority.caBundle(),
                publicKey: publicKey, userData: userData, nonce: nonce
            )
            return try COSESign1(signing: document.encoded(), with: leaf.key).encoded()
        } catch {
            throw .signingFailed("\(error)")
        }
    }

    /// PCRs 0-15 are locked (as after a real boot); 16-31 exist, unlocked and zero.
    public func describePCR(index: UInt16) throws(NSMError) -> PCRDescription {
        if let value = pcrs[Int(index)] { return PCRDescription(locked: true, value: value) }
        guard index < 32 else { throw .moduleError(.invalidIndex) }
        return PCRDescription(locked: false, value: [UInt8](repeating: 0, count: Self.pcrLength))
    }

    public func getRandom() throws(NSMError) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<256).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }
}
