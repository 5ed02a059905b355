import Attestation
import Crypto
import SwiftASN1
import X509

/// The signature section nitro-cli writes for a signed EIF, and the key that makes it.
///
/// Upstream serialises `Vec<PcrSignature>` with serde_cbor: an array holding one map
/// `{"signing_certificate": <PEM file bytes>, "signature": <COSE_Sign1>}`. Because the Rust
/// fields are plain `Vec<u8>`, serde_cbor writes both as CBOR *arrays of small integers*, not
/// byte strings; we write the same and read either. The COSE_Sign1 (untagged, ES384, empty
/// unprotected header) signs the CBOR map `{"register_index": 0, "register_value": [PCR0 bytes]}`.
/// PCR8 is the extend of the certificate's DER. Only P-384 keys are supported, as with
/// `nitro-cli build-enclave --private-key` for the ES384 profile NSM itself uses.
public struct EIFSignatureSection: Sendable, Equatable {
    /// The certificate file's bytes as they were signed in (PEM).
    public var certificatePEM: [UInt8]
    public var coseSign1: [UInt8]

    public init(certificatePEM: [UInt8], coseSign1: [UInt8]) {
        self.certificatePEM = certificatePEM
        self.coseSign1 = coseSign1
    }

    public func encoded() -> [UInt8] {
        CBOR.array([
            .map([
                CBORMapEntry(.text("signing_certificate"), Self.byteArray(certificatePEM)),
                CBORMapEntry(.text("signature"), Self.byteArray(coseSign1)),
            ])
        ]).encoded()
    }

    public init(decoding bytes: [UInt8]) throws(EIFError) {
        let limits = CBORLimits(maxTotalSize: 1 << 20, maxDepth: 8, maxItems: 1 << 20, maxLength: 1 << 20)
        let item: CBOR
        do { item = try CBORDecoder.decode(bytes, limits: limits) } catch { throw .badSignature("not CBOR: \(error)") }
        guard case .array(let signatures) = item, let first = signatures.first else {
            throw .badSignature("expected a non-empty array of PCR signatures, found \(item.typeName)")
        }
        guard let certificate = first["signing_certificate"] else { throw .badSignature("signing_certificate is missing") }
        guard let signature = first["signature"] else { throw .badSignature("signature is missing") }
        certificatePEM = try Self.bytes(certificate, field: "signing_certificate")
        coseSign1 = try Self.bytes(signature, field: "signature")
    }

    /// The certificate's DER, the input of PCR8.
    public func certificateDER() throws(EIFError) -> [UInt8] {
        try EIFSigner.parseCertificate(certificatePEM).der
    }

    /// Checks the COSE signature under the certificate's key and that it signs `pcr0`; an image
    /// whose signature does not match its contents is refused rather than reported as signed.
    public func verify(pcr0: [UInt8]) throws(EIFError) {
        let (_, certificate) = try EIFSigner.parseCertificate(certificatePEM)
        guard let key = P384.Signing.PublicKey(certificate.publicKey) else {
            throw .badCertificate("its key is not P-384 (only ES384 signatures are supported)")
        }
        let message: COSESign1
        do { message = try COSESign1(decoding: coseSign1) } catch { throw .badSignature("COSE_Sign1: \(error)") }
        guard message.isValidSignature(for: key) else {
            throw .badSignature("the COSE_Sign1 signature does not verify under the signing certificate's key")
        }
        guard message.payload == EIFSigner.pcrPayload(index: 0, value: pcr0) else {
            throw .badSignature("the signed payload is not this image's PCR0")
        }
    }

    static func byteArray(_ bytes: [UInt8]) -> CBOR {
        .array(bytes.map { .unsigned(UInt64($0)) })
    }

    static func bytes(_ item: CBOR, field: String) throws(EIFError) -> [UInt8] {
        switch item {
        case .bytes(let bytes): return bytes
        case .array(let elements):
            var out: [UInt8] = []
            out.reserveCapacity(elements.count)
            for element in elements {
                guard case .unsigned(let value) = element, value <= 0xFF else {
                    throw .badSignature("\(field) holds \(element.typeName) where a byte (0-255) belongs")
                }
                out.append(UInt8(value))
            }
            return out
        default: throw .badSignature("\(field) is a \(item.typeName), expected bytes")
        }
    }
}

/// A P-384 key and its certificate, as `--signing-certificate` / `--signing-key` give them.
public struct EIFSigner: Sendable {
    public let certificatePEM: [UInt8]
    public let certificateDER: [UInt8]
    private let key: P384.Signing.PrivateKey

    public init(certificatePEM: [UInt8], keyPEM: String) throws(EIFError) {
        let (der, certificate) = try Self.parseCertificate(certificatePEM)
        let key: P384.Signing.PrivateKey
        do { key = try P384.Signing.PrivateKey(pemRepresentation: keyPEM) } catch {
            throw .badKey("not a PEM P-384 private key (\(error)); only ES384 signing is supported")
        }
        guard let certificateKey = P384.Signing.PublicKey(certificate.publicKey),
            certificateKey.rawRepresentation == key.publicKey.rawRepresentation
        else {
            throw .badKey("it does not match the signing certificate's public key")
        }
        self.certificatePEM = certificatePEM
        self.certificateDER = der
        self.key = key
    }

    /// The signature section for an image whose PCR0 is `pcr0`.
    public func signatureSection(pcr0: [UInt8]) throws -> EIFSignatureSection {
        let message = try COSESign1(signing: Self.pcrPayload(index: 0, value: pcr0), with: key)
        return EIFSignatureSection(certificatePEM: certificatePEM, coseSign1: message.encoded())
    }

    /// serde_cbor's encoding of upstream's `PcrInfo { register_index: i32, register_value: Vec<u8> }`.
    static func pcrPayload(index: UInt64, value: [UInt8]) -> [UInt8] {
        CBOR.map([
            CBORMapEntry(.text("register_index"), .unsigned(index)),
            CBORMapEntry(.text("register_value"), EIFSignatureSection.byteArray(value)),
        ]).encoded()
    }

    static func parseCertificate(_ pem: [UInt8]) throws(EIFError) -> (der: [UInt8], certificate: Certificate) {
        guard let text = String(validating: pem, as: UTF8.self) else { throw .badCertificate("not PEM text") }
        do {
            let document = try PEMDocument(pemString: text)
            guard document.discriminator == "CERTIFICATE" else {
                throw EIFError.badCertificate("PEM block is \(document.discriminator), expected CERTIFICATE")
            }
            return (document.derBytes, try Certificate(derEncoded: document.derBytes))
        } catch let error as EIFError {
            throw error
        } catch {
            throw .badCertificate("not a PEM X.509 certificate: \(error)")
        }
    }
}
