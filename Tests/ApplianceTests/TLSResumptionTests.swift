import Foundation
import Testing

/// A returning client skips the full handshake: tls-front issues TLS 1.3 session tickets and
/// accepts them (checked with Python's ssl, i.e. OpenSSL, as the client).
@Suite("TLS session resumption", .serialized)
struct TLSResumptionTests {
    @Test func aReturningClientResumesItsSession() async throws {
        try await ApplianceHarness.run(workers: 1) { appliance in
            let address = appliance.url.dropFirst("https://".count)
            let colon = try #require(address.lastIndex(of: ":"))
            let result = try run(
                python(), [clientScript("tls_resume.py"), String(address[..<colon]), String(address[address.index(after: colon)...]),
                           appliance.certificatePath])
            #expect(result.status == 0, "\(result.stderr)")
            let report = try #require(
                try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)")
            #expect(report["versions"] as? [String] == ["TLSv1.3", "TLSv1.3"])
            #expect(report["first_reused"] as? Bool == false)
            #expect(report["second_reused"] as? Bool == true, "the second connection did a full handshake: \(report)")
            #expect((report["statuses"] as? [String])?.allSatisfy { $0.hasPrefix("HTTP/1.1 200") } == true, "\(report)")
        }
    }
}
