import FuzzSupport
import GatewayCore

/// The server-sent-events framer every streaming provider adapter feeds network buffers into.
///
/// Invariants: the events do not depend on where the stream was split (the first input byte
/// picks the cut points); a stream fails with the size limit in both feedings or in neither;
/// event names and data lines carry no line breaks other than the `\n` joining data lines;
/// the events written back out as SSE parse to the same events.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = FuzzDriver.bytes(data, size)
    guard let seed = input.first else { return 0 }
    let stream = Array(input.dropFirst())
    // A small limit half the time, so the overflow path is as reachable as the normal one.
    let limit = seed & 2 == 0 ? 4 << 20 : 64

    let whole = parse([stream[...]], limit: limit)
    let pieces = FuzzDriver.splits(count: stream.count, seed: seed).map { stream[$0] }
    let split = parse(pieces, limit: limit)
    switch (whole, split) {
    case (.success(let a), .success(let b)):
        FuzzDriver.require(a == b, "events depend on how the stream was split")
        for event in a {
            FuzzDriver.require(!event.data.contains("\r"), "event data contains CR")
            FuzzDriver.require(!(event.name ?? "").contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\r\n" }), "event name contains a line break")
        }
        let written = a.map(serialize).joined()
        let reparsed = parse([Array(written.utf8)[...]], limit: 1 << 30)
        guard case .success(let again) = reparsed else {
            FuzzDriver.require(false, "re-serialized events fail to parse")
            return 0
        }
        FuzzDriver.require(again == a, "re-serialized events parse differently")
    case (.failure(let a), .failure(let b)):
        FuzzDriver.require(a == b, "different errors for different splits")
    default:
        FuzzDriver.require(false, "one split fails and another does not: \(whole) vs \(split)")
    }
    return 0
}

func parse(_ pieces: [ArraySlice<UInt8>], limit: Int) -> Result<[SSEEvent], SSEParseError> {
    var parser = SSEParser(maxEventBytes: limit)
    var events: [SSEEvent] = []
    do {
        for piece in pieces { events += try parser.feed(piece) }
    } catch {
        return .failure(error)
    }
    if let last = parser.finish() { events.append(last) }
    return .success(events)
}

func serialize(_ event: SSEEvent) -> String {
    var text = event.name.map { "event: \($0)\n" } ?? ""
    for line in event.data.split(separator: "\n", omittingEmptySubsequences: false) { text += "data: \(line)\n" }
    return text + "\n"
}

@main enum Main { static func main() { FuzzDriver.run(fuzz) } }
