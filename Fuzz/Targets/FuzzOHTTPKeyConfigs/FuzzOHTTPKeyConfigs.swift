import FuzzSupport
import OHTTP

/// `application/ohttp-keys` (RFC 9458 §3.2) as clients read it from `/.well-known/ohttp-gateway`
/// and from the attested config document, and the single-configuration form.
///
/// Invariants: an accepted list re-encodes to a list that decodes to the same configurations;
/// each configuration round-trips on its own, has a public key of its KEM's length and at least
/// one symmetric suite; a client encapsulating to a configuration with a usable suite either
/// succeeds or reports a clear setup error (a small-order X25519 point, an invalid X-Wing key).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = FuzzDriver.bytes(data, size)
    var configs: [KeyConfig] = []
    do {
        configs = try KeyConfig.decodeList(input)
        FuzzDriver.require(!configs.isEmpty, "accepted an empty list")
        let again = try? KeyConfig.decodeList(KeyConfig.encodeList(configs))
        FuzzDriver.require(again == configs, "re-encoded list decodes differently")
    } catch {
        _ = error.description
    }
    if let single = try? KeyConfig(decoding: input) { configs.append(single) }
    for config in configs {
        FuzzDriver.require(config.publicKey.count == config.kem.publicKeyLength, "public key length")
        FuzzDriver.require(!config.symmetricSuites.isEmpty, "no symmetric suite")
        FuzzDriver.require((try? KeyConfig(decoding: config.encoded)) == config, "re-encoded configuration decodes differently")
        if !config.supportedSuites.isEmpty {
            do { _ = try OHTTPClient.encapsulate(request: [1, 2, 3], config: config) } catch { _ = error.description }
        }
    }
    return 0
}

@main enum Main { static func main() { FuzzDriver.run(fuzz) } }
