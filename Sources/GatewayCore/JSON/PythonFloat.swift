/// Python's `repr(float)`, which `json.dumps` uses for every float.
///
/// Both Python and Swift print the shortest digit string that round-trips to the same double;
/// they differ only in layout. Python switches to exponent form when the decimal exponent is
/// below -4 or at least 16 (`1e-05`, `1e+16`, but `0.0001` and `1000000000000000.0`), always
/// signs the exponent and pads it to two digits, and adds `.0` to integral values (`100.0`).
/// So we take Swift's digits and lay them out the Python way.
enum PythonFloat {
    static func repr(_ value: Double) -> String {
        if value == 0 { return value.sign == .minus ? "-0.0" : "0.0" }
        let (digits, pointPosition) = shortestDigits(abs(value))
        var out = value.sign == .minus ? "-" : ""
        // `pointPosition` is where the decimal point goes relative to the digits: value = 0.DIGITS × 10^pointPosition.
        if pointPosition < -3 || pointPosition > 16 {
            let exponent = pointPosition - 1
            out.append(digits[digits.startIndex])
            if digits.count > 1 {
                out.append(".")
                out.append(contentsOf: digits.dropFirst())
            }
            out.append(exponent < 0 ? "e-" : "e+")
            let magnitude = String(abs(exponent))
            if magnitude.count < 2 { out.append("0") }
            out.append(magnitude)
        } else if pointPosition <= 0 {
            out.append("0.")
            out.append(String(repeating: "0", count: -pointPosition))
            out.append(contentsOf: digits)
        } else if pointPosition < digits.count {
            out.append(contentsOf: digits.prefix(pointPosition))
            out.append(".")
            out.append(contentsOf: digits.dropFirst(pointPosition))
        } else {
            out.append(contentsOf: digits)
            out.append(String(repeating: "0", count: pointPosition - digits.count))
            out.append(".0")
        }
        return out
    }

    /// The shortest round-tripping significant digits of a positive finite double (no leading or
    /// trailing zeros) and the decimal point position, read off Swift's own shortest formatting.
    static func shortestDigits(_ value: Double) -> (digits: String, pointPosition: Int) {
        let text = value.description  // e.g. "123.45", "0.001", "1e-05", "1.5e+300"
        var mantissa = Substring(text)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exponent = Int(text[text.index(after: e)...]) ?? 0
        }
        let integerPart: Substring
        let fractionPart: Substring
        if let dot = mantissa.firstIndex(of: ".") {
            integerPart = mantissa[..<dot]
            fractionPart = mantissa[mantissa.index(after: dot)...]
        } else {
            integerPart = mantissa
            fractionPart = ""
        }
        var all = Array(integerPart) + Array(fractionPart)
        var point = integerPart.count + exponent
        while let first = all.first, first == "0" {
            all.removeFirst()
            point -= 1
        }
        while let last = all.last, last == "0" { all.removeLast() }
        return (String(all), point)
    }
}
