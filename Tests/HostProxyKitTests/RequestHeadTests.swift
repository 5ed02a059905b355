import Testing

@testable import HostProxyKit

@Suite struct RequestHeadTests {
    static func parse(_ text: String) throws(RequestHeadError) -> RequestHead {
        try RequestHeadParser.parse(Array(text.utf8))
    }

    @Test func parsesAConnectRequest() throws {
        let head = try Self.parse(
            "CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\nProxy-Connection: keep-alive\r\n\r\n")
        #expect(head.method == "CONNECT")
        #expect(head.target == "api.openai.com:443")
        #expect(head.version == "HTTP/1.1")
        #expect(head.headers.map(\.name) == ["Host", "Proxy-Connection"])
        #expect(head.headers.first?.value == "api.openai.com:443")
    }

    @Test func findsTheEndOfTheHeadAcrossPositions() {
        #expect(RequestHeadParser.endOfHead(in: Array("GET / HTTP/1.1\r\n\r\nrest".utf8)) == 18)
        #expect(RequestHeadParser.endOfHead(in: Array("GET / HTTP/1.1\r\n\r".utf8)) == nil)
        #expect(RequestHeadParser.endOfHead(in: Array("\r\r\n\r\n".utf8)) == 5)
    }

    @Test(arguments: [
        "CONNECT api.openai.com:443\r\n\r\n",  // no version
        "CONNECT  api.openai.com:443 HTTP/1.1\r\n\r\n",  // double space
        "CONNECT api.openai.com:443 HTTP/1.1 extra\r\n\r\n",
        "CON NECT x:1 HTTP/1.1\r\n\r\n",
        "\r\n\r\n",
        "C(NNECT x:1 HTTP/1.1\r\n\r\n",
    ])
    func malformedRequestLinesAreRejected(text: String) {
        #expect(throws: RequestHeadError.self) { try Self.parse(text) }
    }

    @Test func rejectsOtherVersionsBareLineBreaksControlBytesAndBadHeaders() {
        #expect(throws: RequestHeadError.unsupportedVersion("HTTP/2.0")) {
            try Self.parse("CONNECT x:1 HTTP/2.0\r\n\r\n")
        }
        #expect(throws: RequestHeadError.bareLineBreak(offset: 20)) {
            try Self.parse("CONNECT x:1 HTTP/1.1\nHost: x\r\n\r\n")
        }
        #expect(throws: RequestHeadError.bareLineBreak(offset: 7)) {
            try Self.parse("CONNECT\rx:1 HTTP/1.1\r\n\r\n")
        }
        #expect(throws: RequestHeadError.nonASCII(offset: 8)) {
            try Self.parse("CONNECT \u{7F}x:1 HTTP/1.1\r\n\r\n")
        }
        #expect(throws: RequestHeadError.malformedHeader(line: 2)) {
            try Self.parse("CONNECT x:1 HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n")
        }
        #expect(throws: RequestHeadError.malformedHeader(line: 1)) {
            try Self.parse("CONNECT x:1 HTTP/1.1\r\n folded: value\r\n\r\n")
        }
        #expect(throws: RequestHeadError.incomplete) {
            try Self.parse("CONNECT x:1 HTTP/1.1\r\n")
        }
    }

    @Test func limitsTheNumberOfHeaders() {
        let headers = (0...RequestHeadParser.defaultMaximumHeaders).map { "X-\($0): v\r\n" }.joined()
        #expect(throws: RequestHeadError.tooManyHeaders(limit: RequestHeadParser.defaultMaximumHeaders)) {
            try Self.parse("CONNECT x:1 HTTP/1.1\r\n" + headers + "\r\n")
        }
    }

    @Test func malformedRequestLineMessagesDoNotEchoTheLine() {
        let error = RequestHeadError.malformedRequestLine(length: 30)
        #expect(error.description.contains("30 bytes"))
    }
}

@Suite struct ConnectTargetTests {
    @Test func acceptsAuthorityForm() throws {
        let name = try ConnectTarget(parsing: "API.OpenAI.com:443")
        #expect(name.host == "api.openai.com" && name.port == 443)
        let v6 = try ConnectTarget(parsing: "[2001:DB8::1]:8443")
        #expect(v6.host == "2001:db8::1" && v6.port == 8443)
        #expect(v6.description == "[2001:db8::1]:8443")
        let v4 = try ConnectTarget(parsing: "192.0.2.1:80")
        #expect(v4.host == "192.0.2.1")
    }

    @Test func rejectsMissingPortAbsoluteFormAndJunk() {
        #expect(throws: ConnectTargetError.missingPort("api.openai.com")) {
            try ConnectTarget(parsing: "api.openai.com")
        }
        #expect(throws: ConnectTargetError.notAuthorityForm("https://api.openai.com:443/")) {
            try ConnectTarget(parsing: "https://api.openai.com:443/")
        }
        #expect(throws: ConnectTargetError.notAuthorityForm("/v1/chat")) {
            try ConnectTarget(parsing: "/v1/chat")
        }
        for bad in [
            "user@api.openai.com:443", "api.openai.com:443/x", "api.openai.com:0", "api.openai.com:65536",
            "api.openai.com:+443", "[::1:443", "::1:443", ":443", "api.openai.com:04",
        ] {
            #expect(throws: ConnectTargetError.self, "\(bad)") { try ConnectTarget(parsing: bad) }
        }
    }
}
