import FuzzSupport
import NIOCore

@testable import EnclaveIPC

/// The key-service request and response codecs: one frame payload (a JSON object) in, a typed
/// message out. Both ends of every enclave connection run these on the peer's bytes.
///
/// Invariants: an accepted request or response re-encodes to a payload that decodes to the same
/// message under the same id; request ids are never 0 (reserved for unreadable requests); an
/// error that carries an id carries the id the payload stated.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let payload = ByteBuffer(bytes: FuzzDriver.bytes(data, size))
    do {
        let (id, request) = try KeyServiceCodec.decodeRequest(payload)
        FuzzDriver.require(id != 0, "accepted request id 0")
        let encoded = try KeyServiceCodec.encode(request, id: id)
        let again = try? KeyServiceCodec.decodeRequest(encoded)
        FuzzDriver.require(again?.id == id && again?.request == request, "re-encoded request decodes differently")
    } catch {
        _ = error.description
    }
    do {
        let (id, response) = try KeyServiceCodec.decodeResponse(payload)
        let encoded = try KeyServiceCodec.encode(response, id: id)
        let again = try? KeyServiceCodec.decodeResponse(encoded)
        FuzzDriver.require(again?.id == id && again?.response == response, "re-encoded response decodes differently")
    } catch {
        _ = error.description
    }
    return 0
}

@main enum Main { static func main() { FuzzDriver.run(fuzz) } }
