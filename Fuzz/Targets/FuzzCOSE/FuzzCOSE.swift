import Attestation
import FuzzSupport

/// COSE_Sign1 parsing (the NSM profile) and the attestation payload inside it. The input is
/// tried both as a whole COSE_Sign1 and as a bare payload, so the corpus of real documents
/// feeds both layers.
///
/// Invariants: an accepted message re-encodes to bytes that parse to the same message; an
/// accepted payload re-encodes (NSM layout) to bytes that parse to the same document.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = FuzzDriver.bytes(data, size)
    do {
        let message = try COSESign1(decoding: input)
        FuzzDriver.require(message.signature.count == 96, "accepted a signature of \(message.signature.count) bytes")
        FuzzDriver.require(message.protectedHeader == COSESign1.es384ProtectedHeader, "accepted another protected header")
        let again = try? COSESign1(decoding: message.encoded())
        FuzzDriver.require(again == message, "re-encoded COSE_Sign1 parses differently")
        _ = COSESign1.sigStructure(protectedHeader: message.protectedHeader, payload: message.payload)
        checkDocument(message.payload)
    } catch {
        _ = error.description
    }
    checkDocument(input)
    return 0
}

func checkDocument(_ payload: [UInt8]) {
    do {
        let document = try AttestationDocument(decoding: payload)
        let again = try? AttestationDocument(decoding: document.encoded())
        FuzzDriver.require(again == document, "re-encoded attestation document parses differently")
        _ = document.date
    } catch {
        _ = error.description
    }
}

@main enum Main { static func main() { FuzzDriver.run(fuzz) } }
