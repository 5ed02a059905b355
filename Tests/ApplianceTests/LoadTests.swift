import Foundation
import GatewayCore
import Testing

extension RuntimeTests {
    /// Correctness under concurrent load, bounded in count (no time limit is asserted: speed is
    /// `scripts/bench --appliance`'s job). Every answer is re-derived and its signature checked.
    @Suite("load")
    struct LoadTests {
        @Test func concurrentKeepAliveClientsAndStreamsGetOnlyVerifiedAnswers() async throws {
            let clients = 8, requestsPerClient = 50, streams = 6
            try await ApplianceHarness.run(workers: 2) { appliance in
                try await appliance.withClient { client in
                    let key = try await client.signingKey()
                    let load = LoadGenerator(client: client, verifier: AnswerVerifier(key: key))
                    await withTaskGroup(of: Void.self) { group in
                        // Keep-alive clients sending non-streamed text and tool-call requests
                        // back to back; each request has its own prompt, so each answer differs.
                        for loop in 0..<clients {
                            group.addTask {
                                for number in 0..<requestsPerClient {
                                    let kind: ChatProbe.Kind = (loop + number) % 4 == 0 ? .toolCall : .text
                                    await load.perform(ChatProbe(kind, tag: "l\(loop)n\(number)", words: number % 7))
                                }
                            }
                        }
                        // Streams alongside, long enough (200 tokens) to overlap the requests.
                        for stream in 0..<streams {
                            group.addTask {
                                let kind: ChatProbe.Kind = stream % 2 == 0 ? .streamedText : .streamedToolCall
                                await load.perform(ChatProbe(kind, tag: "s\(stream)", words: 200))
                            }
                        }
                    }
                    let report = load.report
                    print("load: \(report.summary)")
                    for failure in report.failures.prefix(10) { print("  failed: \(failure)") }
                    #expect(report.failures.isEmpty, "\(report.failures.count) of \(report.total) answers failed")
                    #expect(report.total == clients * requestsPerClient + streams)
                    #expect(report.verified[.text, default: 0] + report.verified[.toolCall, default: 0] == clients * requestsPerClient)
                    #expect(report.verified[.streamedText, default: 0] + report.verified[.streamedToolCall, default: 0] == streams)
                    #expect(report.teeIDs == [key.teeID.description])
                }
                // The load left the appliance whole: no child crashed or restarted.
                let status = try await appliance.status()
                #expect(status.children.allSatisfy { $0.restarts == 0 && $0.state == "ready" }, "\(status)")
            }
        }
    }
}
