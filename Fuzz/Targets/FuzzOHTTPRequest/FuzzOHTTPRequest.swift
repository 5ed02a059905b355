import FuzzSupport

@testable import OHTTP

/// `message/ohttp-req` decapsulation at the gateway, with fixed keys: the RFC 9458 Appendix A
/// X25519 key (key id 1) and an X-Wing key generated once per process (key id 2).
///
/// The first input byte picks the mode:
/// - even: the rest is an encapsulated request as a client or relay would send it (header
///   parse, key lookup, suite match, `enc`, HPKE open). Whatever opens is then decoded as the
///   Binary HTTP request it should carry.
/// - odd: the rest is a plaintext. It is encapsulated to one of the keys, decapsulated, and the
///   response is sealed (single-shot and chunked) and opened by the client side. Invariants:
///   the plaintext survives; flipping any one bit of the request (position from the input)
///   makes decapsulation fail; client and gateway derive the same response secrets.
let rfcConfig = try! KeyConfig(decoding: hex("01002031e1f05a740102115220e9af918f738674aec95f54db6e04eb705aae8e79815500080001000100010003"))
let xWingKey = try! HPKEPrivateKey.generate(.xWing)
let xWingConfig = try! KeyConfig(
    keyID: 2, kem: .xWing, publicKey: xWingKey.publicKeyBytes,
    symmetricSuites: [KeyConfig.SymmetricSuite(kdf: .hkdfSHA256, aead: .aes256GCM)])
let gateway = OHTTPGatewayKeys(keyPairs: [
    .init(config: rfcConfig, privateKey: try! HPKEPrivateKey(x25519RawRepresentation: hex("3c168975674b2fa8e465970b79c8dcf09f1c741626480bd4c6162fc5b6a98e1a"))),
    .init(config: xWingConfig, privateKey: xWingKey),
])

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = FuzzDriver.bytes(data, size)
    guard let mode = input.first else { return 0 }
    let rest = Array(input.dropFirst())
    if mode & 1 == 0 {
        do {
            let opened = try gateway.decapsulate(rest)
            _ = try? BinaryHTTPRequest(decoding: opened.plaintext)
            _ = try opened.responseContext.sealResponse([0x01, 0x40, 0xC8])
        } catch {
            _ = "\(error)"
        }
        return 0
    }
    let config = mode & 2 == 0 ? rfcConfig : xWingConfig
    do {
        let request = try OHTTPClient.encapsulate(request: rest, config: config)
        let opened = try gateway.decapsulate(request.bytes)
        FuzzDriver.require(opened.plaintext == rest, "decapsulated plaintext differs")
        FuzzDriver.require(opened.responseContext.responseSecret == request.responseContext.responseSecret, "response secrets differ")
        FuzzDriver.require(opened.responseContext.chunkedResponseSecret == request.responseContext.chunkedResponseSecret, "chunked secrets differ")

        let response = try opened.responseContext.sealResponse(rest)
        let openedResponse = try request.responseContext.openResponse(response)
        FuzzDriver.require(openedResponse == rest, "single-shot response differs")

        var sealer = ChunkedResponseSealer(context: opened.responseContext)
        var wire: [UInt8] = []
        let pieces = FuzzDriver.splits(count: rest.count, seed: mode)
        for range in pieces.dropLast() { wire += try sealer.seal(Array(rest[range])) }
        wire += try sealer.sealFinal(pieces.last.map { Array(rest[$0]) } ?? [])
        var opener = ChunkedResponseOpener(context: request.responseContext)
        var plaintext = try opener.feed(wire).flatMap { $0 }
        plaintext += try opener.finish()
        FuzzDriver.require(plaintext == rest, "chunked response differs")

        var tampered = request.bytes
        let bit = (rest.count * 31 + Int(mode)) % (tampered.count * 8)
        tampered[bit / 8] ^= 1 << UInt8(bit % 8)
        FuzzDriver.require((try? gateway.decapsulate(tampered)) == nil, "a request with bit \(bit) flipped still opens")
    } catch {
        FuzzDriver.require(false, "round trip failed: \(error)")
    }
    return 0
}

func hex(_ text: String) -> [UInt8] {
    var out: [UInt8] = []
    var index = text.startIndex
    while index < text.endIndex {
        let next = text.index(index, offsetBy: 2)
        out.append(UInt8(text[index..<next], radix: 16)!)
        index = next
    }
    return out
}

@main enum Main { static func main() { FuzzDriver.run(fuzz) } }
