import Attestation
import FuzzSupport

/// The decoder for what `/dev/nsm` writes back (the driver's buffer is 12 KiB of device
/// output; a compromised or buggy module must not be able to crash key-service).
///
/// Invariants: an accepted response names a known variant, and the same response written
/// with definite lengths (`CBOR.encoded()`) decodes to the same value.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = FuzzDriver.bytes(data, size)
    let response: NSMResponse
    do { response = try NSMResponse(decoding: input) } catch {
        _ = error.description
        return 0
    }
    FuzzDriver.require(["Attestation", "DescribePCR", "GetRandom", "Error"].contains(response.variant), "unknown variant")
    guard let item = try? CBORDecoder.decode(input) else {
        FuzzDriver.require(false, "accepted a response that is not CBOR")
        return 0
    }
    let again = try? NSMResponse(decoding: item.encoded())
    FuzzDriver.require(again == response, "the deterministic re-encoding decodes differently")
    return 0
}

@main enum Main { static func main() { FuzzDriver.run(fuzz) } }
