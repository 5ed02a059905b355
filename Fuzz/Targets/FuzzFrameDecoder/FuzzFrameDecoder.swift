import EnclaveIPC
import FuzzSupport
import NIOCore

/// The u32-length-prefixed framing of every enclave IPC connection (key-service, control).
///
/// Invariants: the frames do not depend on how the stream was split across reads (first input
/// byte picks the cut points); every frame is 1...maximum bytes; frames and their prefixes
/// account for every consumed byte, and the end of the stream is either clean or an error,
/// never silently dropped bytes; `FrameEncoder` output of the frames decodes to the same frames.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = FuzzDriver.bytes(data, size)
    guard let seed = input.first else { return 0 }
    let stream = Array(input.dropFirst())
    let maximum = seed & 2 == 0 ? Framing.defaultMaximumFrameSize : 64

    let whole = decode([stream[...]], maximum: maximum)
    let split = decode(FuzzDriver.splits(count: stream.count, seed: seed).map { stream[$0] }, maximum: maximum)
    FuzzDriver.require(whole.frames == split.frames, "frames depend on how the stream was split")
    FuzzDriver.require(whole.error == split.error, "errors depend on how the stream was split")
    var consumed = 0
    for frame in whole.frames {
        FuzzDriver.require((1...maximum).contains(frame.count), "frame of \(frame.count) bytes")
        FuzzDriver.require(Array(stream[consumed..<(consumed + 4)]) == bigEndian(frame.count), "wrong length prefix")
        FuzzDriver.require(Array(stream[(consumed + 4)..<(consumed + 4 + frame.count)]) == frame, "frame is not the bytes after its prefix")
        consumed += 4 + frame.count
    }
    FuzzDriver.require((consumed == stream.count) == (whole.error == nil), "end of stream: \(stream.count - consumed) bytes left, error \(String(describing: whole.error))")

    var encoded: [UInt8] = []
    for frame in whole.frames {
        var out = ByteBuffer()
        do { try FrameEncoder(maximumFrameSize: maximum).encode(data: ByteBuffer(bytes: frame), out: &out) } catch {
            FuzzDriver.require(false, "the encoder refuses a frame the decoder accepted: \(error)")
        }
        encoded += out.readableBytesView
    }
    FuzzDriver.require(encoded == Array(stream[..<consumed]), "encoding the frames does not reproduce the stream")
    return 0
}

struct Decoded {
    var frames: [[UInt8]] = []
    var error: String?
}

func decode(_ pieces: [ArraySlice<UInt8>], maximum: Int) -> Decoded {
    var decoder = FrameDecoder(maximumFrameSize: maximum)
    var buffer = ByteBuffer()
    var result = Decoded()
    do {
        for piece in pieces {
            buffer.writeBytes(piece)
            while let frame = try decoder.decode(buffer: &buffer) { result.frames.append(Array(frame.readableBytesView)) }
        }
        while let frame = try decoder.decodeLast(buffer: &buffer, seenEOF: true) { result.frames.append(Array(frame.readableBytesView)) }
    } catch {
        result.error = "\(error)"
    }
    return result
}

func bigEndian(_ value: Int) -> [UInt8] {
    [UInt8(value >> 24 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
}

@main enum Main { static func main() { FuzzDriver.run(fuzz) } }
