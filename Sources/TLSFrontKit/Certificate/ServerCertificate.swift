import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// The TLS identity tls-front makes for itself at start: a P-256 key that never leaves the
/// process and a self-signed certificate whose SHA-256 the attestation document binds
/// (ARCHITECTURE §7). Clients pin that hash instead of trusting a CA.
public struct ServerCertificate: Sendable {
    public let derBytes: [UInt8]
    public let pem: String
    /// sha256(certificate DER): the first `user_data` entry of the attestation document.
    public let sha256: [UInt8]
    let nioCertificate: NIOSSLCertificate
    let nioPrivateKey: NIOSSLPrivateKey

    /// Hex form of `sha256`, as `openssl x509 -fingerprint -sha256` prints it without colons.
    public var fingerprint: String { sha256.map { String(format: "%02x", $0) }.joined() }

    /// - Parameter subjectAlternativeNames: DNS names and IP addresses (IPv4 dotted quad or
    ///   IPv6); each entry that parses as an IP becomes an iPAddress SAN, anything else a dNSName.
    public static func generate(
        subjectAlternativeNames: [String],
        validity: Duration = .seconds(365 * 24 * 3600),
        now: Date = Date()
    ) throws(ServerCertificateError) -> ServerCertificate {
        guard !subjectAlternativeNames.isEmpty else { throw .noSubjectAlternativeNames }
        let key = P256.Signing.PrivateKey()
        do {
            let names = try subjectAlternativeNames.map { name throws(ServerCertificateError) -> GeneralName in
                if let ip = IPAddressBytes.parse(name) { return .ipAddress(ASN1OctetString(contentBytes: ArraySlice(ip))) }
                guard Self.isDNSName(name) else { throw .invalidName(name) }
                return .dnsName(name)
            }
            let subject = try DistinguishedName { CommonName(subjectAlternativeNames[0]) }
            var serial = [UInt8](repeating: 0, count: 16)
            for index in serial.indices { serial[index] = UInt8.random(in: 0...255) }
            serial[0] &= 0x7F
            let certificate = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(bytes: ArraySlice(serial)),
                publicKey: Certificate.PublicKey(key.publicKey),
                notValidBefore: now.addingTimeInterval(-300),
                notValidAfter: now.addingTimeInterval(TimeInterval(validity.components.seconds)),
                issuer: subject,
                subject: subject,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    // keyCertSign marks the self-signature as usable, so verifiers that pin this
                    // certificate as their only trust anchor (BoringSSL, Python's ssl) accept it.
                    Critical(KeyUsage(digitalSignature: true, keyCertSign: true))
                    try ExtendedKeyUsage([.serverAuth])
                    SubjectAlternativeNames(names)
                },
                issuerPrivateKey: Certificate.PrivateKey(key)
            )
            var serializer = DER.Serializer()
            try serializer.serialize(certificate)
            let der = serializer.serializedBytes
            let pem = try certificate.serializeAsPEM().pemString
            return ServerCertificate(
                derBytes: der,
                pem: pem,
                sha256: Array(SHA256.hash(data: der)),
                nioCertificate: try NIOSSLCertificate(bytes: der, format: .der),
                nioPrivateKey: try NIOSSLPrivateKey(bytes: Array(key.pemRepresentation.utf8), format: .pem)
            )
        } catch let error as ServerCertificateError {
            throw error
        } catch {
            throw .generationFailed("\(error)")
        }
    }

    /// Letters, digits, '-', '.' and a leading "*." wildcard; nothing a certificate parser could misread.
    private static func isDNSName(_ name: String) -> Bool {
        let body = name.hasPrefix("*.") ? String(name.dropFirst(2)) : name
        return (1...253).contains(body.utf8.count)
            && body.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
                (1...63).contains(label.utf8.count)
                    && label.utf8.allSatisfy { $0 == 0x2D || (0x30...0x39).contains($0) || (0x61...0x7A).contains($0 | 0x20) }
            }
    }

    /// The TLS server configuration serving this certificate (TLS 1.2 minimum, HTTP/1.1 ALPN).
    func tlsConfiguration() -> TLSConfiguration {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(nioCertificate)],
            privateKey: .privateKey(nioPrivateKey)
        )
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = ["http/1.1"]
        return configuration
    }
}

public enum ServerCertificateError: Error, Hashable, Sendable, CustomStringConvertible {
    case noSubjectAlternativeNames
    case invalidName(String)
    case generationFailed(String)

    public var description: String {
        switch self {
        case .noSubjectAlternativeNames:
            return "TLS certificate: at least one subject alternative name (--san) is required"
        case .invalidName(let name):
            return "TLS certificate: '\(name)' is neither an IP address nor a valid DNS name"
        case .generationFailed(let reason):
            return "TLS certificate generation failed: \(reason)"
        }
    }
}

/// IP literals for iPAddress SANs, parsed with the system's inet_pton.
enum IPAddressBytes {
    static func parse(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}
