import Foundation
import Testing

@Suite("dev appliance", .serialized)
struct SmokeTests {
    @Test func startsServesASignedAnswerAndStopsCleanly() async throws {
        try await ApplianceHarness.run(workers: 1) { appliance in
            let result = try appliance.curl("/v1/chat/completions", body: #"{"model":"local","messages":[{"role":"user","content":"Say hello"}]}"#)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains(#""tee_signature":""#))
            let status = try appliance.ctl("status")
            #expect(status.status == 0, "\(status.stderr)")
            #expect(status.stdout.contains("worker-1"))
        }
    }
}
