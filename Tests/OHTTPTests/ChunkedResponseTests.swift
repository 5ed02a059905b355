import Testing

@testable import OHTTP

@Suite struct ChunkedResponseTests {
    let context: ResponseContext
    let chunks: [[UInt8]] = [
        Array("data: {\"a\":1}\n\n".utf8), [], Array(repeating: 0x41, count: 300), Array("data: [DONE]\n\n".utf8),
    ]

    init() throws {
        let gateway = try OHTTPGatewayKeys.generate(suites: [.xWingAES256GCM])
        let request = try OHTTPClient.encapsulate(request: [1], config: gateway.configs[0])
        context = request.responseContext
    }

    func seal(_ chunks: [[UInt8]]) throws -> [UInt8] {
        var sealer = ChunkedResponseSealer(context: context)
        var wire: [UInt8] = []
        for chunk in chunks.dropLast() {
            wire += try sealer.seal(chunk)
        }
        return wire + (try sealer.sealFinal(chunks.last ?? []))
    }

    /// Feeds `wire` in the given pieces and returns every chunk, the final one last.
    func open(_ pieces: [ArraySlice<UInt8>]) throws(ResponseError) -> [[UInt8]] {
        var opener = ChunkedResponseOpener(context: context)
        var opened: [[UInt8]] = []
        for piece in pieces {
            opened += try opener.feed(piece)
        }
        return opened + [try opener.finish()]
    }

    @Test func byteByByteFeedYieldsEveryChunk() throws {
        let wire = try seal(chunks)
        #expect(try open(wire.indices.map { wire[$0...$0] }) == chunks)
    }

    @Test func randomSplitsYieldEveryChunk() throws {
        let wire = try seal(chunks)
        for seed: UInt64 in 1...200 {
            var generator = SplitMix64(seed: seed)
            var pieces: [ArraySlice<UInt8>] = []
            var start = 0
            while start < wire.count {
                let end = min(wire.count, start + Int.random(in: 0...40, using: &generator))
                pieces.append(wire[start..<end])
                start = end
            }
            #expect(try open(pieces) == chunks, "seed \(seed)")
        }
    }

    @Test func chunksArriveBeforeTheStreamEnds() throws {
        let wire = try seal(chunks)
        var opener = ChunkedResponseOpener(context: context)
        let firstChunkEnd = context.suite.responseNonceLength + 1 + chunks[0].count + 16
        #expect(try opener.feed(wire[..<(firstChunkEnd - 1)]) == [])
        #expect(try opener.feed(wire[(firstChunkEnd - 1)..<firstChunkEnd]) == [chunks[0]])
    }

    @Test func finalOnlyAndEmptyFinalAreValid() throws {
        #expect(try open([try seal([[]])[...]]) == [[]])
        #expect(try open([try seal([[7], []])[...]]) == [[7], []])
    }

    @Test func everyTruncationFails() throws {
        let wire = try seal(chunks)
        for cut in 0..<wire.count {
            #expect(throws: ResponseError.self, "cut at \(cut)") { try open([wire[..<cut]]) }
        }
        let lastNonFinalEnd = wire.count - 1 - chunks[3].count - 16
        #expect(throws: ResponseError.missingFinalChunk(offset: lastNonFinalEnd)) {
            try open([wire[..<lastNonFinalEnd]])
        }
    }

    @Test func anythingAfterTheFinalChunkFails() throws {
        let wire = try seal(chunks)
        #expect(throws: ResponseError.authenticationFailed(chunk: 3)) { try open([wire[...], [0][...]]) }
        let again = try seal(chunks)
        #expect(throws: ResponseError.authenticationFailed(chunk: 3)) { try open([(wire + again)[...]]) }
    }

    @Test func tamperingAnyByteFails() throws {
        let wire = try seal(chunks)
        for index in wire.indices {
            var tampered = wire
            tampered[index] ^= 0x80
            #expect(throws: ResponseError.self, "byte \(index)") { try open([tampered[...]]) }
        }
    }

    @Test func reorderedChunksFail() throws {
        var sealer = ChunkedResponseSealer(context: context)
        let first = try sealer.seal([1])
        let second = try sealer.seal([2])
        let final = try sealer.sealFinal([3])
        let nonceLength = context.suite.responseNonceLength
        let swapped = Array(first[..<nonceLength]) + second + Array(first[nonceLength...]) + final
        #expect(throws: ResponseError.authenticationFailed(chunk: 0)) { try open([swapped[...]]) }
    }

    @Test func finalMarkerOnANonFinalChunkFails() throws {
        var sealer = ChunkedResponseSealer(context: context)
        let first = try sealer.seal([1])
        // Chunk 0 sealed with AAD "" presented as the final chunk.
        let forged =
            Array(first[..<context.suite.responseNonceLength]) + [0]
            + Array(first[(context.suite.responseNonceLength + 1)...])
        #expect(throws: ResponseError.authenticationFailed(chunk: 0)) { try open([forged[...]]) }
    }

    @Test func lengthLimitsAreEnforcedBeforeBuffering() throws {
        var opener = ChunkedResponseOpener(context: context, maxChunkLength: 64)
        let nonce = [UInt8](repeating: 0, count: context.suite.responseNonceLength)
        #expect(throws: ResponseError.chunkTooLarge(length: 65, limit: 64, offset: nonce.count)) {
            try opener.feed(nonce + [0x40, 65])
        }
        var short = ChunkedResponseOpener(context: context)
        #expect(throws: ResponseError.chunkTooShort(length: 15, minimum: 16, offset: nonce.count)) {
            try short.feed(nonce + [15])
        }
        var final = ChunkedResponseOpener(context: context, maxChunkLength: 64)
        #expect(throws: ResponseError.chunkTooLarge(length: 65, limit: 64, offset: nonce.count + 1)) {
            try final.feed(nonce + [0] + [UInt8](repeating: 1, count: 65))
        }
    }

    @Test func misuseAfterTheEndIsRefusedAndErrorsAreSticky() throws {
        var sealer = ChunkedResponseSealer(context: context)
        _ = try sealer.sealFinal([])
        #expect(throws: ResponseError.alreadyFinished) { try sealer.seal([1]) }
        #expect(throws: ResponseError.alreadyFinished) { try sealer.sealFinal([1]) }

        var opener = ChunkedResponseOpener(context: context)
        _ = try opener.feed(try seal([[1]]))
        _ = try opener.finish()
        #expect(throws: ResponseError.alreadyFinished) { try opener.feed([0]) }
        #expect(throws: ResponseError.alreadyFinished) { try opener.finish() }

        let nonce = [UInt8](repeating: 0, count: context.suite.responseNonceLength)
        let firstError = ResponseError.chunkTooShort(length: 1, minimum: 16, offset: nonce.count)
        var failing = ChunkedResponseOpener(context: context)
        #expect(throws: firstError) { try failing.feed(nonce + [1]) }
        #expect(throws: firstError) { try failing.feed([]) }
        #expect(throws: firstError) { try failing.finish() }

        var empty = ChunkedResponseOpener(context: context)
        #expect(
            throws: ResponseError.truncated(Truncation(field: "response nonce", offset: 0, needed: 32, available: 0))
        ) {
            try empty.finish()
        }
    }
}
