import Attestation
import FuzzSupport

/// The strict CBOR decoder under the attestation verifier, with tight limits so the limit paths
/// are reached too.
///
/// Invariants: a decoded item re-encodes (deterministic, definite lengths) to bytes that decode
/// to the same item, and that encoding is a fixed point; errors carry offsets inside the input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = FuzzDriver.bytes(data, size)
    for limits in [CBORLimits(), CBORLimits(maxTotalSize: 4096, maxDepth: 4, maxItems: 64, maxLength: 256)] {
        let item: CBOR
        do { item = try CBORDecoder.decode(input, limits: limits) } catch {
            _ = error.description
            continue
        }
        _ = item.typeName
        let encoded = item.encoded()
        // Definite lengths can be one byte longer than an indefinite array's 0x9f…0xff, so only
        // the total size limit is relaxed for the re-encoding.
        var relaxed = limits
        relaxed.maxTotalSize += input.count
        guard let again = try? CBORDecoder.decode(encoded, limits: relaxed) else {
            FuzzDriver.require(false, "re-encoded item does not decode")
            return 0
        }
        FuzzDriver.require(again == item, "re-encoded item decodes differently")
        FuzzDriver.require(again.encoded() == encoded, "encoding is not a fixed point")
    }
    return 0
}

@main enum Main { static func main() { FuzzDriver.run(fuzz) } }
