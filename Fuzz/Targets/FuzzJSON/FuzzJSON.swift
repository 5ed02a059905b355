import FuzzSupport
import GatewayCore

/// The request-body JSON parser and the writer the signing contract depends on.
///
/// Invariants: whatever parses, written in each style, parses back to the same value (member
/// order, number kind and exact scalars included); the canonical and Python styles are pure
/// printable ASCII; writing is a fixed point (write(parse(write(v))) == write(v)).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = FuzzDriver.bytes(data, size)
    let parser = JSONParser()
    let value: JSONValue
    do { value = try parser.parse(input) } catch {
        FuzzDriver.require(error.offset <= input.count, "error offset \(error.offset) past the input (\(input.count) bytes)")
        _ = error.description
        return 0
    }
    for style in [JSONWriter.Style.compact, .python, .canonical] {
        let written = JSONWriter.serialize(value, style: style)
        if style != .compact {
            FuzzDriver.require(written.allSatisfy { (0x20...0x7E).contains($0) }, "\(style) output is not printable ASCII")
        }
        let reparsed: JSONValue
        do { reparsed = try parser.parse(written) } catch {
            FuzzDriver.require(false, "\(style) output does not parse: \(error)")
            return 0
        }
        if style != .canonical {
            FuzzDriver.require(reparsed == value, "\(style) output parses to a different value")
        }
        FuzzDriver.require(JSONWriter.serialize(reparsed, style: style) == written, "\(style) writing is not a fixed point")
    }
    return 0
}

@main enum Main { static func main() { FuzzDriver.run(fuzz) } }
