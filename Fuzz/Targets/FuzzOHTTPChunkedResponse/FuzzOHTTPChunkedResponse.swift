import FuzzSupport
import OHTTP

/// The client's reader for `message/ohttp-chunked-res` (`ChunkedResponseOpener`), with the
/// fixed context of the shared chunked-response vector (X25519, HKDF-SHA256,
/// ChaCha20-Poly1305; secret 0x44…, enc 0x22…).
///
/// Invariants: the chunks and the final outcome do not depend on how the stream was split into
/// reads (first input byte picks the cut points); the first error is sticky (a later `feed`
/// or `finish` throws it again); a stream that authenticates also opens after a round trip
/// through the sealer with the same chunk boundaries.
let context = try! ResponseContext(
    suite: .x25519ChaCha20Poly1305, encapsulatedKey: [UInt8](repeating: 0x22, count: 32),
    responseSecret: [UInt8](repeating: 0x11, count: 32), chunkedResponseSecret: [UInt8](repeating: 0x44, count: 32))

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = FuzzDriver.bytes(data, size)
    guard let seed = input.first else { return 0 }
    let stream = Array(input.dropFirst())
    let limit = seed & 2 == 0 ? ChunkedResponseOpener.defaultMaxChunkLength : 48

    let whole = open([stream[...]], limit: limit)
    let split = open(FuzzDriver.splits(count: stream.count, seed: seed).map { stream[$0] }, limit: limit)
    FuzzDriver.require(whole.chunks == split.chunks || whole.error != nil || split.error != nil, "chunks depend on the split")
    FuzzDriver.require(comparable(whole.error) == comparable(split.error), "errors depend on the split: \(String(describing: whole.error)) vs \(String(describing: split.error))")
    FuzzDriver.require(whole.final == split.final, "the final chunk depends on the split")

    // Whatever opened must survive sealing with the same boundaries.
    if whole.error == nil, let final = whole.final {
        var sealer = ChunkedResponseSealer(context: context)
        var wire: [UInt8] = []
        do {
            for chunk in whole.chunks { wire += try sealer.seal(chunk) }
            wire += try sealer.sealFinal(final)
        } catch {
            FuzzDriver.require(false, "sealing failed: \(error)")
        }
        let again = open([wire[...]], limit: ChunkedResponseOpener.defaultMaxChunkLength)
        FuzzDriver.require(again.error == nil && again.chunks == whole.chunks && again.final == final, "re-sealed stream opens differently")
    }
    return 0
}

/// An oversized final chunk is refused as soon as more than the limit is buffered, so the
/// length it reports is what had arrived by then (known finding, see docs/fuzzing.md); the
/// limit and the offset must still agree.
func comparable(_ error: ResponseError?) -> ResponseError? {
    if case .chunkTooLarge(_, let limit, let offset)? = error { return .chunkTooLarge(length: 0, limit: limit, offset: offset) }
    return error
}

struct Opened {
    var chunks: [[UInt8]] = []
    var final: [UInt8]?
    var error: ResponseError?
}

func open(_ pieces: [ArraySlice<UInt8>], limit: Int) -> Opened {
    var opener = ChunkedResponseOpener(context: context, maxChunkLength: limit)
    var result = Opened()
    do {
        for piece in pieces { result.chunks += try opener.feed(piece) }
        result.final = try opener.finish()
    } catch {
        result.error = error
        // Sticky: the same error again, whatever comes next.
        do {
            _ = try opener.feed([0])
            FuzzDriver.require(false, "feed after an error succeeded")
        } catch let again {
            FuzzDriver.require(again == error, "feed after \(error) threw \(again)")
        }
        return result
    }
    do {
        _ = try opener.finish()
        FuzzDriver.require(false, "finish after finish succeeded")
    } catch {
        FuzzDriver.require(error == .alreadyFinished, "finish after finish threw \(error)")
    }
    return result
}

@main enum Main { static func main() { FuzzDriver.run(fuzz) } }
