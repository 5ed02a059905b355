/// An amount of a token in its smallest unit (wei-like), exact.
///
/// `UInt64` is too small: an 18-decimals asset makes one whole token 10^18 units, and a price
/// per million tokens times millions of tokens passes 2^64 quickly. `UInt128` (3.4 × 10^38)
/// covers every amount a session cap or a price table can reasonably hold; anything larger is
/// refused with an error instead of wrapping. Every operation is checked.
public struct Amount: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let value: UInt128

    public init(_ value: UInt128) { self.value = value }

    public static let zero = Amount(0)

    /// Parses a decimal integer string (digits only, no sign, no exponent, at most 38 digits of
    /// significance); nil when it is not one or does not fit.
    public init?(decimal text: String) {
        guard !text.isEmpty, text.utf8.count <= 40 else { return nil }
        var result: UInt128 = 0
        for byte in text.utf8 {
            guard (0x30...0x39).contains(byte) else { return nil }
            let (times, overflow1) = result.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(UInt128(byte - 0x30))
            guard !overflow1, !overflow2 else { return nil }
            result = sum
        }
        value = result
    }

    /// Decimal digits, no leading zeros ("0" for zero).
    public var description: String { String(value) }

    public static func < (lhs: Amount, rhs: Amount) -> Bool { lhs.value < rhs.value }

    public func adding(_ other: Amount) throws(AmountOverflow) -> Amount {
        let (sum, overflow) = value.addingReportingOverflow(other.value)
        guard !overflow else { throw AmountOverflow(operation: "\(self) + \(other)") }
        return Amount(sum)
    }

    /// `self - other`, or zero when `other` is larger.
    public func saturatingSubtract(_ other: Amount) -> Amount { other.value >= value ? .zero : Amount(value - other.value) }

    public func multiplied(by factor: UInt128) throws(AmountOverflow) -> Amount {
        let (product, overflow) = value.multipliedReportingOverflow(by: factor)
        guard !overflow else { throw AmountOverflow(operation: "\(self) × \(factor)") }
        return Amount(product)
    }

    /// `⌈self / divisor⌉`; `divisor` must be positive.
    public func dividedRoundingUp(by divisor: UInt128) -> Amount {
        precondition(divisor > 0, "division by zero")
        let (quotient, remainder) = value.quotientAndRemainder(dividingBy: divisor)
        return Amount(remainder == 0 ? quotient : quotient + 1)
    }
}

/// An amount computation passed 2^128 − 1: a configuration whose prices or caps are absurd.
public struct AmountOverflow: Error, Equatable, CustomStringConvertible {
    public let operation: String
    public var description: String { "amount overflow computing \(operation) (amounts are limited to 2^128 - 1 smallest units)" }
}
