import FuzzSupport
import GatewayCore

/// The projection behind `tee_request_hash` (chat and legacy completions).
///
/// Invariants: the canonical bytes are printable ASCII, parse back to the projected value, are
/// a fixed point of the canonical writer and hash to the reported digest; projecting a chat
/// projection again changes nothing (the projection keeps only fields it can re-read).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let parser = JSONParser()
    guard let body = try? parser.parse(FuzzDriver.bytes(data, size)) else { return 0 }
    for kind in RequestKind.allCases {
        let canonical: CanonicalRequest
        do { canonical = try CanonicalRequest(kind: kind, body: body) } catch {
            _ = error.description
            continue
        }
        let bytes = canonical.bytes
        FuzzDriver.require(bytes.allSatisfy { (0x20...0x7E).contains($0) }, "\(kind) canonical bytes are not printable ASCII")
        FuzzDriver.require(bytes == JSONWriter.serialize(canonical.value, style: .canonical), "\(kind) bytes differ from the value's canonical form")
        FuzzDriver.require(canonical.hash == Keccak256.hash(bytes), "\(kind) hash is not keccak256 of the bytes")
        guard let reparsed = try? parser.parse(bytes) else {
            FuzzDriver.require(false, "\(kind) canonical bytes do not parse")
            return 0
        }
        FuzzDriver.require(JSONWriter.serialize(reparsed, style: .canonical) == bytes, "\(kind) canonical form is not a fixed point")
        if kind == .chat {
            // Completions is deliberately not idempotent (absent max_tokens hashes as 16, an
            // explicit null is dropped); chat has no such quirk.
            guard let again = try? CanonicalRequest(kind: kind, body: canonical.value) else {
                FuzzDriver.require(false, "a chat projection is not itself a valid chat request")
                return 0
            }
            FuzzDriver.require(again.bytes == bytes, "projecting a chat projection changes it")
        }
    }
    return 0
}

@main enum Main { static func main() { FuzzDriver.run(fuzz) } }
