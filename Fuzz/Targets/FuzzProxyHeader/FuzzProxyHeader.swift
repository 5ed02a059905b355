import EnclaveIPC
import FuzzSupport

/// The PROXY protocol v2 parser tls-front runs on the first bytes of every vsock connection.
///
/// Invariants: a header never claims more bytes than were given; every strict prefix of an
/// accepted header answers "need more bytes" (nil), never an error or a different header (the
/// handler calls `parse` after each read); bytes after the header do not change it; an
/// accepted IP or UNIX header re-encodes to bytes that parse to the same header.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = FuzzDriver.bytes(data, size)
    let parsed: (header: ProxyHeader, length: Int)?
    do { parsed = try ProxyHeaderParser.parse(input) } catch {
        _ = error.description
        return 0
    }
    guard let (header, length) = parsed else { return 0 }
    FuzzDriver.require(length <= input.count && length >= ProxyHeaderParser.fixedLength, "claimed \(length) of \(input.count) bytes")
    for cut in Set([0, 1, 11, 12, 13, 15, 16, length / 2, length - 1]) where cut < length {
        do {
            let prefix = try ProxyHeaderParser.parse(input[..<cut])
            FuzzDriver.require(prefix == nil, "a \(cut)-byte prefix of a valid header already parses")
        } catch {
            FuzzDriver.require(false, "a \(cut)-byte prefix of a valid header is an error: \(error)")
        }
    }
    let withTrailer = try? ProxyHeaderParser.parse(input[..<length] + [0x16, 0x03, 0x01])
    FuzzDriver.require(withTrailer?.header == header && withTrailer?.length == length, "bytes after the header change it")
    for address in [header.source, header.destination].compactMap({ $0 }) {
        _ = address.description
    }
    if roundTrips(header) {
        let again = try? ProxyHeaderParser.parse(header.encoded())
        FuzzDriver.require(again?.header == header, "re-encoded header parses differently")
    }
    return 0
}

/// UNIX paths are decoded with replacement characters and cut at NUL, so only paths that are
/// valid UTF-8 within the 108-byte field survive encoding unchanged.
func roundTrips(_ header: ProxyHeader) -> Bool {
    guard case .unix(let source)? = header.source, case .unix(let destination)? = header.destination else { return true }
    return [source, destination].allSatisfy { $0.utf8.count <= 108 && !$0.contains("\u{FFFD}") }
}

@main enum Main { static func main() { FuzzDriver.run(fuzz) } }
