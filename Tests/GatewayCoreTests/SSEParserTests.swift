import Testing

import GatewayCore

@Suite struct SSEParserTests {
    /// Feeds `text` split at every `size` bytes and returns all events, including the unterminated one.
    func parse(_ text: String, chunk size: Int, limit: Int = 1 << 20) throws -> [SSEEvent] {
        var parser = SSEParser(maxEventBytes: limit)
        let bytes = Array(text.utf8)
        var events: [SSEEvent] = []
        var start = 0
        while start < bytes.count {
            let end = min(start + size, bytes.count)
            events += try parser.feed(bytes[start..<end])
            start = end
        }
        if let last = parser.finish() { events.append(last) }
        return events
    }

    @Test(arguments: ["\n", "\r\n", "\r"])
    func lineEndingsAndArbitrarySplits(newline: String) throws {
        let text = [
            ": keep-alive comment", "event: message_start", "data: {\"a\":1}", "", "data: line one", "data: line two", "id: 7",
            "retry: 100", "", "data:no-space", "", "data: é✓🎉", "", "data: [DONE]", "", "",
        ].joined(separator: newline)
        let expected = [
            SSEEvent(name: "message_start", data: "{\"a\":1}"), SSEEvent(data: "line one\nline two"), SSEEvent(data: "no-space"),
            SSEEvent(data: "é✓🎉"), SSEEvent(data: "[DONE]"),
        ]
        for size in [1, 2, 3, 7, 64, 4096] {
            #expect(try parse(text, chunk: size) == expected, "chunk size \(size)")
        }
    }

    @Test func eventWithoutDataIsDroppedAndNameDoesNotLeak() throws {
        let events = try parse("event: ping\n\ndata: x\n\n", chunk: 5)
        #expect(events == [SSEEvent(data: "x")])
    }

    @Test func unterminatedFinalEventIsDelivered() throws {
        #expect(try parse("data: tail", chunk: 3) == [SSEEvent(data: "tail")])
        #expect(try parse("data: a\n\ndata: b\n", chunk: 100) == [SSEEvent(data: "a"), SSEEvent(data: "b")])
    }

    @Test func oversizedEventIsRejected() {
        let big = "data: " + String(repeating: "x", count: 100) + "\n\n"
        #expect(throws: SSEParseError.eventTooLarge(limit: 64)) { try parse(big, chunk: 10, limit: 64) }
        // The limit is per event: many small events pass.
        #expect((try? parse(String(repeating: "data: 0123456789\n\n", count: 50), chunk: 9, limit: 64).count) == 50)
    }

    @Test func errorMessageNamesTheLimit() {
        #expect(SSEParseError.eventTooLarge(limit: 4096).description.contains("4096"))
    }
}
