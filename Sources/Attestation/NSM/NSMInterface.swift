/// A PCR as the NSM describes it: its value and whether it can still be extended.
public struct PCRDescription: Sendable, Equatable {
    public var locked: Bool
    public var value: [UInt8]

    public init(locked: Bool, value: [UInt8]) {
        self.locked = locked
        self.value = value
    }
}

/// What key-service needs from the Nitro Secure Module. Two implementations: `NSMDevice`
/// (the real `/dev/nsm`) and `SimulatedNSM` (dev mode and tests, signed by a dev CA).
///
/// Calls block for as long as the module takes (milliseconds for an attestation).
public protocol NSMInterface: Sendable {
    /// A COSE_Sign1 attestation document binding the given values. Each is at most 512 bytes
    /// (`publicKey` 1024), the limits NSM enforces.
    func attest(nonce: [UInt8]?, userData: [UInt8]?, publicKey: [UInt8]?) throws(NSMError) -> [UInt8]
    func describePCR(index: UInt16) throws(NSMError) -> PCRDescription
    func getRandom() throws(NSMError) -> [UInt8]
}
