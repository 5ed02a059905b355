import FuzzSupport
import NIOCore
import NIOEmbedded

@testable import HostProxyKit

/// host-proxy's HTTP/1.1 request-head parser (egress CONNECT and `GET /metrics`) and the
/// channel handler that finds the head in a byte stream split across reads.
///
/// Invariants: an accepted head has a token method, a supported version, token header names and
/// values without line breaks or surrounding blanks, and written back out it parses to the same
/// head; `RequestHeadReader`, fed the input in pieces (cut points from the first byte), reports
/// exactly what parsing the whole input's head reports, and passes on every byte after the
/// head, in order, to the handler behind it (the CONNECT tunnel's first TLS bytes).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = FuzzDriver.bytes(data, size)
    guard let seed = input.first else { return 0 }
    let stream = Array(input.dropFirst())
    let maximumBytes = seed & 2 == 0 ? RequestHeadParser.defaultMaximumBytes : 96

    // What the reader must report, computed on the whole stream.
    let expected: Result<RequestHead, RequestHeadError>?
    let end = RequestHeadParser.endOfHead(in: stream)
    if let end {
        FuzzDriver.require(end >= 4 && stream[(end - 4)..<end].elementsEqual([13, 10, 13, 10]), "end of head is not after CRLFCRLF")
        FuzzDriver.require(RequestHeadParser.endOfHead(in: stream[..<(end - 1)]) == nil, "an earlier end of head exists")
    }
    if let end, end <= maximumBytes + 1 {
        expected = Result { () throws(RequestHeadError) in try RequestHeadParser.parse(Array(stream[..<end])) }
        if case .success(let head) = expected! { checkHead(head) }
    } else if stream.count > maximumBytes {
        expected = .failure(.tooLarge(limit: maximumBytes))
    } else {
        expected = nil
    }

    // The same stream through the channel handler, in pieces.
    let channel = EmbeddedChannel()
    let reader = RequestHeadReader(eventLoop: channel.eventLoop, maximumBytes: maximumBytes, timeout: .seconds(30))
    var reported: Result<RequestHead, RequestHeadError>?
    reader.result.futureResult.whenSuccess { reported = $0 }
    do {
        try channel.pipeline.syncOperations.addHandler(reader)
        for range in FuzzDriver.splits(count: stream.count, seed: seed) {
            try channel.writeInbound(ByteBuffer(bytes: stream[range]))
        }
    } catch {
        FuzzDriver.require(false, "the embedded channel failed: \(error)")
    }
    FuzzDriver.require(same(reported, expected), "split reads report \(String(describing: reported)), the whole stream \(String(describing: expected))")

    if let end, case .success? = expected {
        _ = channel.pipeline.syncOperations.removeHandler(reader)
        var after: [UInt8] = []
        while let buffer = try? channel.readInbound(as: ByteBuffer.self) { after += buffer.readableBytesView }
        FuzzDriver.require(after == Array(stream[end...]), "bytes after the head were lost or reordered")
    }
    _ = try? channel.finish()
    return 0
}

func checkHead(_ head: RequestHead) {
    FuzzDriver.require(["HTTP/1.1", "HTTP/1.0"].contains(head.version), "accepted version \(head.version)")
    FuzzDriver.require(!head.method.isEmpty && !head.target.isEmpty, "empty method or target")
    for field in head.headers {
        FuzzDriver.require(!field.name.isEmpty && !field.name.utf8.contains(where: { $0 <= 0x20 || $0 == 0x3A }), "bad header name")
        FuzzDriver.require(!field.value.utf8.contains(where: { $0 == 13 || $0 == 10 }), "header value with a line break")
        FuzzDriver.require(field.value.utf8.first.map { $0 != 0x20 && $0 != 0x09 } ?? true, "untrimmed header value")
        FuzzDriver.require(field.value.utf8.last.map { $0 != 0x20 && $0 != 0x09 } ?? true, "untrimmed header value")
    }
    var text = "\(head.method) \(head.target) \(head.version)\r\n"
    for field in head.headers { text += "\(field.name): \(field.value)\r\n" }
    text += "\r\n"
    guard let again = try? RequestHeadParser.parse(Array(text.utf8)) else {
        FuzzDriver.require(false, "the head written back out does not parse")
        return
    }
    FuzzDriver.require(same(.success(again), .success(head)), "the head written back out parses differently")
}

func same(_ a: Result<RequestHead, RequestHeadError>?, _ b: Result<RequestHead, RequestHeadError>?) -> Bool {
    switch (a, b) {
    case (nil, nil): return true
    case (.failure(let x)?, .failure(let y)?): return x == y
    case (.success(let x)?, .success(let y)?):
        return x.method == y.method && x.target == y.target && x.version == y.version
            && x.headers.map(\.name) == y.headers.map(\.name) && x.headers.map(\.value) == y.headers.map(\.value)
    default: return false
    }
}

@main enum Main { static func main() { FuzzDriver.run(fuzz) } }
