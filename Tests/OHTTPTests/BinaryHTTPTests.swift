import Testing

@testable import OHTTP

/// RFC 9292 §5 examples and malformed inputs.
@Suite struct BinaryHTTPTests {
    /// RFC 9292 Figure 8: known-length encoding of the Figure 7 request.
    static let knownLengthRequest = """
        00034745 54056874 74707300 0a2f6865 6c6c6f2e 74787440 6c0a7573 65722d61
        67656e74 34637572 6c2f372e 31362e33 206c6962 6375726c 2f372e31 362e3320
        4f70656e 53534c2f 302e392e 376c207a 6c69622f 312e322e 3304686f 73740f77
        77772e65 78616d70 6c652e63 6f6d0f61 63636570 742d6c61 6e677561 67650665
        6e2c206d 690000
        """
    /// RFC 9292 Figure 9: the same request, indeterminate-length.
    static let indeterminateRequest = """
        02034745 54056874 74707300 0a2f6865 6c6c6f2e 7478740a 75736572 2d616765
        6e743463 75726c2f 372e3136 2e33206c 69626375 726c2f37 2e31362e 33204f70
        656e5353 4c2f302e 392e376c 207a6c69 622f312e 322e3304 686f7374 0f777777
        2e657861 6d706c65 2e636f6d 0f616363 6570742d 6c616e67 75616765 06656e2c
        206d6900 0000
        """
    /// RFC 9292 Figure 11: indeterminate-length response with 102 and 103 interim responses.
    static let indeterminateResponse = """
        03406607 72756e6e 696e670a 22736c65 65702031 35220040 67046c69 6e6b233c
        2f737479 6c652e63 73733e3b 2072656c 3d707265 6c6f6164 3b206173 3d737479
        6c65046c 696e6b24 3c2f7363 72697074 2e6a733e 3b207265 6c3d7072 656c6f61
        643b2061 733d7363 72697074 0040c804 64617465 1d4d6f6e 2c203237 204a756c
        20323030 39203132 3a32383a 35332047 4d540673 65727665 72064170 61636865
        0d6c6173 742d6d6f 64696669 65641d57 65642c20 3232204a 756c2032 30303920
        31393a31 353a3536 20474d54 04657461 67142233 34616133 38372d64 2d313536
        38656230 30220d61 63636570 742d7261 6e676573 05627974 65730e63 6f6e7465
        6e742d6c 656e6774 68023531 04766172 790f4163 63657074 2d456e63 6f64696e
        670c636f 6e74656e 742d7479 70650a74 6578742f 706c6169 6e003348 656c6c6f
        20576f72 6c642120 4d792063 6f6e7465 6e742069 6e636c75 64657320 61207472
        61696c69 6e672043 524c462e 0d0a0000
        """
    /// RFC 9292 Figure 13: known-length response with content and a trailer.
    static let knownLengthChunkedResponse = """
        0140c800 1d546869 7320636f 6e74656e 7420636f 6e746169 6e732043 524c462e
        0d0a0d07 74726169 6c657204 74657874
        """

    static let request = BinaryHTTPRequest(
        method: "GET", scheme: "https", authority: "", path: "/hello.txt",
        headerFields: [
            HTTPField(name: "user-agent", value: "curl/7.16.3 libcurl/7.16.3 OpenSSL/0.9.7l zlib/1.2.3"),
            HTTPField(name: "host", value: "www.example.com"),
            HTTPField(name: "accept-language", value: "en, mi"),
        ])

    @Test func rfcRequestDecodesInBothFramings() throws {
        #expect(try BinaryHTTPRequest(decoding: try hex(Self.knownLengthRequest)) == Self.request)
        #expect(try BinaryHTTPRequest(decoding: try hex(Self.indeterminateRequest)) == Self.request)
    }

    @Test func rfcRequestMayBeTruncatedByTwoBytes() throws {
        for encoded in [try hex(Self.knownLengthRequest), try hex(Self.indeterminateRequest)] {
            #expect(try BinaryHTTPRequest(decoding: Array(encoded.dropLast())) == Self.request)
            #expect(try BinaryHTTPRequest(decoding: Array(encoded.dropLast(2))) == Self.request)
        }
    }

    @Test func encoderReproducesTheRFCRequestMinusEmptyTail() throws {
        #expect(try Self.request.encoded() == Array((try hex(Self.knownLengthRequest)).dropLast(2)))
        var mixedCase = Self.request
        mixedCase.headerFields[0].name = "User-Agent"
        #expect(try mixedCase.encoded() == (try Self.request.encoded()))
    }

    @Test func rfcResponseKeepsInterimResponsesInOrder() throws {
        let response = try BinaryHTTPResponse(decoding: try hex(Self.indeterminateResponse))
        #expect(
            response.informationalResponses == [
                .init(status: 102, headerFields: [HTTPField(name: "running", value: "\"sleep 15\"")]),
                .init(
                    status: 103,
                    headerFields: [
                        HTTPField(name: "link", value: "</style.css>; rel=preload; as=style"),
                        HTTPField(name: "link", value: "</script.js>; rel=preload; as=script"),
                    ]),
            ])
        #expect(response.status == 200)
        #expect(
            response.headerFields.map(\.name) == [
                "date", "server", "last-modified", "etag", "accept-ranges", "content-length", "vary", "content-type",
            ])
        #expect(response.headerFields.first { $0.name == "vary" }?.value == "Accept-Encoding")
        #expect(response.content == Array("Hello World! My content includes a trailing CRLF.\r\n".utf8))
        #expect(response.trailerFields.isEmpty)
        #expect(try BinaryHTTPResponse(decoding: try response.encoded()) == response)
    }

    @Test func rfcKnownLengthResponseRoundTripsExactly() throws {
        let encoded = try hex(Self.knownLengthChunkedResponse)
        let response = try BinaryHTTPResponse(decoding: encoded)
        #expect(
            response
                == BinaryHTTPResponse(
                    status: 200, content: Array("This content contains CRLF.\r\n".utf8),
                    trailerFields: [HTTPField(name: "trailer", value: "text")]))
        #expect(try response.encoded() == encoded)
    }

    @Test func zeroPaddingIsAcceptedAndAnythingElseIsNot() throws {
        let encoded = try hex(Self.knownLengthRequest)
        #expect(try BinaryHTTPRequest(decoding: encoded + [0, 0, 0]) == Self.request)
        #expect(throws: BinaryHTTPError.nonZeroPadding(offset: encoded.count + 1)) {
            try BinaryHTTPRequest(decoding: encoded + [0, 7])
        }
    }

    /// Only cuts at a section boundary (after control data, header section or content) are
    /// valid; every other cut is a typed truncation error.
    @Test func everyOtherTruncationIsRejected() throws {
        let message = BinaryHTTPRequest(
            method: "POST", path: "/v1/chat/completions",
            headerFields: [HTTPField(name: "content-type", value: "application/json")],
            content: Array("{}".utf8), trailerFields: [HTTPField(name: "x-checksum", value: "1")])
        let encoded = try message.encoded()
        let controlEnd = 1 + 5 + 6 + 1 + 21
        let headerEnd = controlEnd + 1 + 1 + 12 + 1 + 16
        let contentEnd = headerEnd + 1 + 2
        let boundaries: Set<Int> = [controlEnd, headerEnd, contentEnd]
        for cut in 0..<encoded.count {
            let prefix = Array(encoded[..<cut])
            if boundaries.contains(cut) {
                #expect(throws: Never.self, "cut at \(cut)") { try BinaryHTTPRequest(decoding: prefix) }
            } else {
                #expect(throws: BinaryHTTPError.self, "cut at \(cut)") { try BinaryHTTPRequest(decoding: prefix) }
            }
        }
        #expect(try BinaryHTTPRequest(decoding: encoded) == message)
    }

    @Test func framingIndicatorMustMatchTheMessageKind() throws {
        #expect(throws: BinaryHTTPError.invalidFramingIndicator(4)) { try BinaryHTTPRequest(decoding: [4]) }
        #expect(throws: BinaryHTTPError.unexpectedMessageKind(expected: "request", framingIndicator: 1)) {
            try BinaryHTTPRequest(decoding: try hex(Self.knownLengthChunkedResponse))
        }
        #expect(throws: BinaryHTTPError.unexpectedMessageKind(expected: "response", framingIndicator: 0)) {
            try BinaryHTTPResponse(decoding: try hex(Self.knownLengthRequest))
        }
        #expect(
            throws: BinaryHTTPError.truncated(
                Truncation(field: "framing indicator", offset: 0, needed: 1, available: 0))
        ) {
            try BinaryHTTPRequest(decoding: [])
        }
    }

    @Test func statusCodesOutsideTheirRangesAreRejected() throws {
        #expect(throws: BinaryHTTPError.invalidStatus(99, expected: 100...599, offset: 1)) {
            try BinaryHTTPResponse(decoding: [1, 0x40, 99])
        }
        #expect(throws: BinaryHTTPError.invalidStatus(600, expected: 100...599, offset: 1)) {
            try BinaryHTTPResponse(decoding: [1, 0x42, 0x58])
        }
        #expect(throws: BinaryHTTPError.invalidStatus(150, expected: 200...599, offset: nil)) {
            try BinaryHTTPResponse(status: 150).encoded()
        }
        #expect(throws: BinaryHTTPError.invalidStatus(200, expected: 100...199, offset: nil)) {
            try BinaryHTTPResponse(status: 204, informationalResponses: [.init(status: 200)]).encoded()
        }
        // An interim response must be followed by a final one.
        #expect(throws: BinaryHTTPError.truncated(Truncation(field: "status code", offset: 4, needed: 1, available: 0)))
        {
            try BinaryHTTPResponse(decoding: [1, 0x40, 100, 0])
        }
    }

    @Test(arguments: [
        (HTTPField(name: "x y", value: "1"), BinaryHTTPError.invalidFieldName("x y", offset: nil)),
        (HTTPField(name: "", value: "1"), BinaryHTTPError.invalidFieldName("", offset: nil)),
        (HTTPField(name: ":path", value: "/"), BinaryHTTPError.forbiddenField(":path", offset: nil)),
        (
            HTTPField(name: "transfer-encoding", value: "chunked"),
            BinaryHTTPError.forbiddenField("transfer-encoding", offset: nil)
        ),
        (HTTPField(name: "connection", value: "close"), BinaryHTTPError.forbiddenField("connection", offset: nil)),
        (HTTPField(name: "te", value: "gzip"), BinaryHTTPError.forbiddenField("te", offset: nil)),
        (HTTPField(name: "x-a", value: "a\r\nb"), BinaryHTTPError.invalidFieldValue(name: "x-a", offset: nil)),
        (HTTPField(name: "x-a", value: " padded"), BinaryHTTPError.invalidFieldValue(name: "x-a", offset: nil)),
        (HTTPField(name: "x-a", value: "nul\u{0}"), BinaryHTTPError.invalidFieldValue(name: "x-a", offset: nil)),
    ])
    func encoderRefusesInvalidFields(field: HTTPField, expected: BinaryHTTPError) {
        #expect(throws: expected) { try BinaryHTTPRequest(method: "GET", path: "/", headerFields: [field]).encoded() }
    }

    @Test func encoderAcceptsTETrailersAndExtensionPseudoFieldsFirst() throws {
        let request = BinaryHTTPRequest(
            method: "CONNECT", scheme: "", authority: "example.com:443", path: "",
            headerFields: [HTTPField(name: ":protocol", value: "websocket"), HTTPField(name: "te", value: "trailers")])
        #expect(try BinaryHTTPRequest(decoding: try request.encoded()) == request)
        var late = request
        late.headerFields.reverse()
        #expect(throws: BinaryHTTPError.misplacedPseudoField(":protocol", offset: nil)) { try late.encoded() }
        var trailer = request
        trailer.trailerFields = [HTTPField(name: ":protocol", value: "x")]
        #expect(throws: BinaryHTTPError.misplacedPseudoField(":protocol", offset: nil)) { try trailer.encoded() }
    }

    @Test func decoderRefusesWhatTheEncoderRefuses() throws {
        // GET https "" / with one header field line written by hand.
        func request(name: [UInt8], value: [UInt8]) -> [UInt8] {
            let line = [UInt8(name.count)] + name + [UInt8(value.count)] + value
            return [0, 3] + Array("GET".utf8) + [5] + Array("https".utf8) + [0, 1, 0x2F, UInt8(line.count)] + line
        }
        #expect(throws: BinaryHTTPError.invalidFieldName("Host", offset: 15)) {
            try BinaryHTTPRequest(decoding: request(name: Array("Host".utf8), value: Array("a".utf8)))
        }
        #expect(throws: BinaryHTTPError.forbiddenField(":status", offset: 15)) {
            try BinaryHTTPRequest(decoding: request(name: Array(":status".utf8), value: Array("200".utf8)))
        }
        #expect(throws: BinaryHTTPError.invalidFieldValue(name: "x", offset: 15)) {
            try BinaryHTTPRequest(decoding: request(name: [0x78], value: [0xFF, 0xFE]))
        }
        #expect(throws: BinaryHTTPError.invalidFieldName("", offset: 15)) {
            try BinaryHTTPRequest(
                decoding: [0, 3] + Array("GET".utf8) + [5] + Array("https".utf8) + [0, 1, 0x2F, 2, 0, 0])
        }
        #expect(throws: BinaryHTTPError.invalidControlData(field: "method", offset: 1)) {
            try BinaryHTTPRequest(decoding: [0, 3] + Array("G T".utf8) + [0, 0, 0])
        }
        #expect(throws: BinaryHTTPError.invalidControlData(field: "path", offset: 5)) {
            try BinaryHTTPRequest(decoding: [0, 1, 0x47, 0, 0, 2, 0x2F, 0x0A])
        }
        // A field line that runs past its known-length section.
        #expect(throws: BinaryHTTPError.self) {
            try BinaryHTTPRequest(decoding: [0, 1, 0x47, 0, 0, 1, 0x2F, 3, 1, 0x78, 5, 0x61, 0x62])
        }
    }

    @Test func contentLengthMustMatchTheContent() throws {
        let mismatch = BinaryHTTPRequest(
            method: "POST", path: "/", headerFields: [HTTPField(name: "content-length", value: "5")], content: [1, 2])
        #expect(throws: BinaryHTTPError.contentLengthMismatch(declared: "5", actual: 2)) { try mismatch.encoded() }
        var matching = mismatch
        matching.headerFields[0].value = "2"
        let encoded = try matching.encoded()
        #expect(try BinaryHTTPRequest(decoding: encoded) == matching)
        var forged = encoded
        let digit = try #require(forged.firstIndex(of: UInt8(ascii: "2")))
        forged[digit] = UInt8(ascii: "3")
        #expect(throws: BinaryHTTPError.contentLengthMismatch(declared: "3", actual: 2)) {
            try BinaryHTTPRequest(decoding: forged)
        }
    }

    @Test func limitsAreCheckedBeforeReading() throws {
        let big = BinaryHTTPRequest(
            method: "POST", path: "/", headerFields: (0..<5).map { HTTPField(name: "x-\($0)", value: "v") },
            content: [UInt8](repeating: 1, count: 100))
        let encoded = try big.encoded()
        #expect(throws: BinaryHTTPError.limitExceeded(what: "content length", limit: 99, actual: 100, offset: 46)) {
            try BinaryHTTPRequest(decoding: encoded, limits: BinaryHTTPLimits(maxContentLength: 99))
        }
        #expect(throws: BinaryHTTPError.limitExceeded(what: "field count", limit: 4, actual: 5, offset: 40)) {
            try BinaryHTTPRequest(decoding: encoded, limits: BinaryHTTPLimits(maxFieldCount: 4))
        }
        #expect(throws: BinaryHTTPError.limitExceeded(what: "header section length", limit: 10, actual: 30, offset: 15))
        {
            try BinaryHTTPRequest(decoding: encoded, limits: BinaryHTTPLimits(maxFieldSectionLength: 10))
        }
        #expect(throws: BinaryHTTPError.limitExceeded(what: "method length", limit: 3, actual: 4, offset: 1)) {
            try BinaryHTTPRequest(decoding: encoded, limits: BinaryHTTPLimits(maxControlDataLength: 3))
        }
        // A length prefix claiming 2^62-1 bytes fails on the limit, not on allocation.
        let huge: [UInt8] = [0, 1, 0x47, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        #expect(
            throws: BinaryHTTPError.limitExceeded(
                what: "content length", limit: BinaryHTTPLimits.default.maxContentLength, actual: QUICVarint.maxValue,
                offset: 7)
        ) {
            try BinaryHTTPRequest(decoding: huge)
        }
        let interim: [UInt8] = [1] + Array([[UInt8]](repeating: [0x40, 100, 0], count: 3).joined()) + [0x40, 200]
        #expect(throws: BinaryHTTPError.limitExceeded(what: "informational responses", limit: 2, actual: 3, offset: 7))
        {
            try BinaryHTTPResponse(decoding: interim, limits: BinaryHTTPLimits(maxInformationalResponses: 2))
        }
        #expect(try BinaryHTTPResponse(decoding: interim).informationalResponses.count == 3)
    }

    @Test func indeterminateContentChunksAreJoinedAndBounded() throws {
        let response: [UInt8] = [3, 0x40, 200, 0, 2, 0x61, 0x62, 1, 0x63, 0, 0]
        #expect(
            try BinaryHTTPResponse(decoding: response) == BinaryHTTPResponse(status: 200, content: Array("abc".utf8)))
        #expect(throws: BinaryHTTPError.limitExceeded(what: "content length", limit: 2, actual: 3, offset: 7)) {
            try BinaryHTTPResponse(decoding: response, limits: BinaryHTTPLimits(maxContentLength: 2))
        }
        #expect(throws: BinaryHTTPError.self) { try BinaryHTTPResponse(decoding: Array(response.dropLast(3))) }
    }
}
