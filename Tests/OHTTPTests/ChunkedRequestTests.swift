import Testing

@testable import OHTTP

/// `message/ohttp-chunked-req` (draft-ietf-ohai-chunked-ohttp-08 §6.1) and the streamed Binary
/// HTTP response the gateway puts inside `message/ohttp-chunked-res`.
@Suite struct ChunkedRequestTests {
    @Test(arguments: EncapsulationTests.allSuites)
    func chunkedRequestsRoundTripAndOpenOnlyAsChunked(suite: HPKESuite) throws {
        let gateway = try OHTTPGatewayKeys.generate(suites: [suite])
        let config = try #require(gateway.configs.first)
        let chunks = [Array("first ".utf8), [], Array("second ".utf8), Array("final".utf8)]
        let encapsulated = try OHTTPClient.encapsulateChunked(chunks: chunks, config: config)
        let opened = try gateway.decapsulateChunked(encapsulated.bytes)
        #expect(opened.plaintext == Array("first second final".utf8))
        #expect(opened.responseContext.chunkedResponseSecret == encapsulated.responseContext.chunkedResponseSecret)
        // The label differs, so a chunked body never opens as a single-shot one.
        #expect(throws: DecapsulationError.decryptionFailed) { try gateway.decapsulate(encapsulated.bytes) }
        let empty = try OHTTPClient.encapsulateChunked(chunks: [], config: config)
        #expect(try gateway.decapsulateChunked(empty.bytes).plaintext == [])
    }

    @Test func reorderedCutOrTamperedChunksFail() throws {
        let gateway = try OHTTPGatewayKeys.generate(suites: [.x25519ChaCha20Poly1305])
        let config = try #require(gateway.configs.first)
        let bytes = try OHTTPClient.encapsulateChunked(chunks: [[1, 2, 3], [4, 5, 6], [7]], config: config).bytes
        let header = 7 + 32
        // Layout after the header: 19 ‖ sealed(16+3) ‖ 19 ‖ sealed ‖ 0 ‖ final sealed.
        let first = Array(bytes[header..<(header + 20)]), second = Array(bytes[(header + 20)..<(header + 40)])
        let swapped = Array(bytes[..<header]) + second + first + Array(bytes[(header + 40)...])
        #expect(throws: DecapsulationError.decryptionFailed) { try gateway.decapsulateChunked(swapped) }
        // Dropping the final marker and chunk leaves a stream that never ends.
        #expect(throws: DecapsulationError.self) { try gateway.decapsulateChunked(Array(bytes[..<(header + 40)])) }
        // Promoting a non-final chunk to final changes its AAD.
        let promoted = Array(bytes[..<(header + 20)]) + [0] + Array(bytes[(header + 21)..<(header + 40)])
        #expect(throws: DecapsulationError.decryptionFailed) { try gateway.decapsulateChunked(promoted) }
        var tampered = bytes
        tampered[tampered.count - 1] ^= 1
        #expect(throws: DecapsulationError.decryptionFailed) { try gateway.decapsulateChunked(tampered) }
        var unknown = bytes
        unknown[0] &+= 1
        #expect(throws: DecapsulationError.unknownKeyID(unknown[0])) { try gateway.decapsulateChunked(unknown) }
    }

    @Test func streamedBinaryHTTPResponseDecodesWholeAndPieceByPiece() throws {
        let events = [Array("data: {\"a\":1}\n\n".utf8), Array("data: [DONE]\n\n".utf8)]
        let head = try BinaryHTTPResponseWriter.head(
            status: 200, headerFields: [HTTPField(name: "Content-Type", value: "text/event-stream")])
        let parts = [head] + (try events.map(BinaryHTTPResponseWriter.contentChunk)) + [BinaryHTTPResponseWriter.end]
        let whole = try BinaryHTTPResponse(decoding: parts.flatMap { $0 })
        #expect(whole.status == 200)
        #expect(whole.headerFields == [HTTPField(name: "content-type", value: "text/event-stream")])
        #expect(whole.content == events.flatMap { $0 })

        // Fed one byte at a time, the reader still yields the head, each event whole, then the end.
        var reader = BinaryHTTPResponseReader()
        var seen: [BinaryHTTPResponseReader.Part] = []
        for byte in parts.flatMap({ $0 }) { seen += try reader.feed([byte]) }
        seen += try reader.finish()
        var content: [UInt8] = []
        for case .content(let bytes) in seen { content += bytes }
        #expect(seen.first == .head(status: 200, headerFields: whole.headerFields))
        #expect(seen.last == .end(trailerFields: []))
        #expect(content == whole.content)

        // A known-length response is decoded whole at the end.
        var known = BinaryHTTPResponseReader()
        let encoded = try BinaryHTTPResponse(status: 404, content: [1, 2]).encoded()
        #expect(try known.feed(encoded).isEmpty)
        #expect(try known.finish() == [.head(status: 404, headerFields: []), .content([1, 2]), .end(trailerFields: [])])

        // A stream cut before its content terminator is incomplete.
        var cut = BinaryHTTPResponseReader()
        _ = try cut.feed(parts.dropLast().flatMap { $0 })
        #expect(throws: BinaryHTTPError.self) { try cut.finish() }
        // A request is not a response.
        var wrongKind = BinaryHTTPResponseReader()
        #expect(throws: BinaryHTTPError.self) { try wrongKind.feed([2]) }
    }
}
