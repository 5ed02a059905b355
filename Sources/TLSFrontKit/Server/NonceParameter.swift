import EnclaveIPC

/// Reads `/enclave/attestation?nonce=HEX`: 20 to 64 bytes as hex digits in either case
/// (40 digits is nitriding's form). Every refusal says what was expected, so a client
/// author fixes it from the 400 body alone.
public enum NonceParameter {
    public static func parse(_ text: String?) throws(NonceParameterError) -> AttestationNonce {
        guard let text, !text.isEmpty else { throw .missing }
        let digits = Array(text.utf8)
        let limits = AttestationNonce.allowedByteCounts
        guard digits.count <= limits.upperBound * 2 else { throw .wrongLength(digits: digits.count) }
        guard digits.count.isMultiple(of: 2) else { throw .oddLength(digits: digits.count) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = value(of: digits[index]) else { throw .notHex(offset: index) }
            guard let low = value(of: digits[index + 1]) else { throw .notHex(offset: index + 1) }
            bytes.append(high << 4 | low)
            index += 2
        }
        guard let nonce = try? AttestationNonce(bytes) else { throw .wrongLength(digits: digits.count) }
        return nonce
    }

    private static func value(of digit: UInt8) -> UInt8? {
        switch digit {
        case 0x30...0x39: digit - 0x30
        case 0x41...0x46: digit - 0x41 + 10
        case 0x61...0x66: digit - 0x61 + 10
        default: nil
        }
    }
}

public enum NonceParameterError: Error, Hashable, Sendable, CustomStringConvertible {
    case missing
    case oddLength(digits: Int)
    case notHex(offset: Int)
    case wrongLength(digits: Int)

    private static var expected: String {
        let bytes = AttestationNonce.allowedByteCounts
        return "\(bytes.lowerBound * 2) to \(bytes.upperBound * 2) hex digits (\(bytes.lowerBound)-\(bytes.upperBound) bytes; 40 digits is the nitriding form)"
    }

    public var description: String {
        switch self {
        case .missing:
            return "query parameter 'nonce' is required: \(Self.expected)"
        case .oddLength(let digits):
            return "nonce has \(digits) hex digits, an odd number; expected \(Self.expected)"
        case .notHex(let offset):
            return "nonce character at offset \(offset) is not a hex digit (0-9, a-f, A-F)"
        case .wrongLength(let digits):
            return "nonce has \(digits) hex digits; expected \(Self.expected)"
        }
    }
}
