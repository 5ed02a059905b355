import FuzzSupport
import OHTTP

/// Binary HTTP (RFC 9292) request and response decoders, known- and indeterminate-length, as
/// the gateway reads the inner request of an OHTTP message and a client reads the answer.
///
/// Invariants: decode → encode → decode gives the same message, and encoding is a fixed point
/// (the encoder writes known-length form, so an indeterminate-length input is normalised once);
/// the encoder never refuses a message the decoder accepted.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = FuzzDriver.bytes(data, size)
    do {
        let request = try BinaryHTTPRequest(decoding: input)
        let encoded = try request.encoded()
        let again = try BinaryHTTPRequest(decoding: encoded)
        FuzzDriver.require(again == request, "re-encoded request decodes differently")
        FuzzDriver.require((try? again.encoded()) == encoded, "request encoding is not a fixed point")
    } catch {
        requireDecodingError(error, input)
    }
    do {
        let response = try BinaryHTTPResponse(decoding: input)
        let encoded = try response.encoded()
        let again = try BinaryHTTPResponse(decoding: encoded)
        FuzzDriver.require(again == response, "re-encoded response decodes differently")
        FuzzDriver.require((try? again.encoded()) == encoded, "response encoding is not a fixed point")
    } catch {
        requireDecodingError(error, input)
    }
    return 0
}

/// Errors must come from reading the input, never from re-encoding what was accepted: encoder
/// errors carry no offset.
func requireDecodingError(_ error: BinaryHTTPError, _ input: [UInt8]) {
    let text = error.description
    switch error {
    case .lengthNotEncodable:
        FuzzDriver.require(false, "the encoder refused an accepted message: \(text)")
    case .invalidControlData(_, nil), .invalidStatus(_, _, nil), .invalidFieldName(_, nil), .invalidFieldValue(_, nil),
        .forbiddenField(_, nil), .misplacedPseudoField(_, nil):
        FuzzDriver.require(false, "the encoder refused an accepted message: \(text)")
    default:
        break
    }
}

@main enum Main { static func main() { FuzzDriver.run(fuzz) } }
