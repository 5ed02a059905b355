import NIOCore
import Testing

@testable import EnclaveIPC

@Suite("Length-prefixed framing")
struct FramingTests {
    /// Feeds `chunks` through NIO's single-step driver for `FrameDecoder`, then signals EOF
    /// if `closeAtEnd`. Returns the frames produced and the error thrown, if any.
    private func decode(
        _ chunks: [[UInt8]],
        maximumFrameSize: Int = Framing.defaultMaximumFrameSize,
        closeAtEnd: Bool = true
    ) -> (frames: [[UInt8]], error: FramingError?) {
        let processor = NIOSingleStepByteToMessageProcessor(FrameDecoder(maximumFrameSize: maximumFrameSize))
        var frames: [[UInt8]] = []
        do {
            for chunk in chunks {
                try processor.process(buffer: ByteBuffer(bytes: chunk)) { frames.append(Array($0.readableBytesView)) }
            }
            if closeAtEnd {
                try processor.finishProcessing(seenEOF: true) { frames.append(Array($0.readableBytesView)) }
            }
            return (frames, nil)
        } catch {
            return (frames, error as? FramingError)
        }
    }

    private func encode(_ payload: [UInt8], maximumFrameSize: Int = Framing.defaultMaximumFrameSize) throws -> [UInt8] {
        var out = ByteBuffer()
        try FrameEncoder(maximumFrameSize: maximumFrameSize).encode(data: ByteBuffer(bytes: payload), out: &out)
        return Array(out.readableBytesView)
    }

    private static func bytewise(_ bytes: [UInt8]) -> [[UInt8]] { bytes.map { [$0] } }

    @Test("the encoder writes a u32 big-endian length before the payload")
    func encoderLayout() throws {
        let payload = randomBytes(300)
        let encoded = try encode(payload)
        #expect(Array(encoded.prefix(4)) == [0, 0, 0x01, 0x2C])
        #expect(Array(encoded.dropFirst(4)) == payload)
    }

    @Test("frames round-trip whole, byte by byte and in random chunks")
    func roundTrip() throws {
        let payloads = [randomBytes(1), randomBytes(255), randomBytes(256), randomBytes(70_000)]
        let stream = try payloads.flatMap { try encode($0) }

        #expect(decode([stream]).frames == payloads)
        #expect(decode(Self.bytewise(stream)).frames == payloads)

        var chunks: [[UInt8]] = []
        var rest = stream[...]
        while !rest.isEmpty {
            let size = Int.random(in: 1...9000)
            chunks.append(Array(rest.prefix(size)))
            rest = rest.dropFirst(size)
        }
        let result = decode(chunks)
        #expect(result.frames == payloads)
        #expect(result.error == nil)
    }

    @Test("a 512 KiB OHTTP body, base64-encoded in JSON, fits the default limit")
    func defaultLimitFitsOHTTP() throws {
        let base64Size = (512 * 1024 + 2) / 3 * 4
        #expect(base64Size + 4096 < Framing.defaultMaximumFrameSize)
        let payload = randomBytes(base64Size + 4096)
        #expect(decode([try encode(payload)]).frames == [payload])
    }

    @Test("a frame of exactly the limit passes, one byte more is refused as soon as the prefix is read")
    func oversize() throws {
        let limit = 1000
        let exact = randomBytes(limit)
        #expect(decode([try encode(exact, maximumFrameSize: limit)], maximumFrameSize: limit).frames == [exact])

        let header: [UInt8] = [0, 0, 0x03, 0xE9]  // 1001
        let partial = decode(Self.bytewise(Array(header.prefix(3))), maximumFrameSize: limit, closeAtEnd: false)
        #expect(partial.error == nil && partial.frames.isEmpty)
        let refused = decode(Self.bytewise(header), maximumFrameSize: limit, closeAtEnd: false)
        #expect(refused.error == .frameTooLarge(length: 1001, maximum: limit))

        let huge = decode([[0xFF, 0xFF, 0xFF, 0xFF]], closeAtEnd: false)
        #expect(huge.error == .frameTooLarge(length: Int(UInt32.max), maximum: Framing.defaultMaximumFrameSize))
    }

    @Test("a zero length prefix is refused")
    func zeroLength() {
        let valid: [UInt8] = [0, 0, 0, 1, 0x41]
        let result = decode(Self.bytewise(valid + [0, 0, 0, 0]), closeAtEnd: false)
        #expect(result.frames == [[0x41]])
        #expect(result.error == .emptyFrame)
    }

    @Test("a connection closed inside the length prefix is a truncated header", arguments: 1...3)
    func truncatedHeader(received: Int) {
        let result = decode(Self.bytewise(Array([0, 0, 0, 9].prefix(received))))
        #expect(result.frames.isEmpty)
        #expect(result.error == .truncatedHeader(receivedBytes: received))
    }

    @Test("a connection closed inside the payload is a truncated payload")
    func truncatedPayload() {
        let result = decode(Self.bytewise([0, 0, 0, 10] + randomBytes(3)))
        #expect(result.frames.isEmpty)
        #expect(result.error == .truncatedPayload(expectedBytes: 10, receivedBytes: 3))
        let headerOnly = decode([[0, 0, 0, 10]])
        #expect(headerOnly.error == .truncatedPayload(expectedBytes: 10, receivedBytes: 0))
    }

    @Test("garbage after the last whole frame is reported at close, after the frame is delivered")
    func trailingGarbage() throws {
        let payload = randomBytes(20)
        let result = decode(Self.bytewise(try encode(payload) + [0x13, 0x37]))
        #expect(result.frames == [payload])
        #expect(result.error == .truncatedHeader(receivedBytes: 2))
    }

    @Test("a clean close after whole frames is not an error")
    func cleanClose() throws {
        let result = decode([try encode([1, 2, 3])])
        #expect(result.frames == [[1, 2, 3]])
        #expect(result.error == nil)
    }

    @Test("the encoder refuses what the decoder would refuse")
    func encoderLimits() throws {
        #expect(throws: FramingError.emptyFrame) { try encode([]) }
        #expect(throws: FramingError.frameTooLarge(length: 11, maximum: 10)) { try encode(randomBytes(11), maximumFrameSize: 10) }
    }

    @Test("over a real socket, bytes after the last frame make the reader fail with truncation")
    func truncationOverSocket() async throws {
        let listener = try await Endpoint(parsing: "tcp://127.0.0.1:0").bind { channel in
            channel.eventLoop.makeCompletedFuture { try Framing.wrap(channel) }
        }
        try await listener.channel.executeThenClose { connections in
            let sender = try await rawByteConnection(to: listener.endpoint)
            try await sender.executeThenClose { _, outbound in
                try await outbound.write(ByteBuffer(bytes: try encode([7, 7, 7]) + [0, 0, 0, 50, 1, 2]))
            }
            var accepted = connections.makeAsyncIterator()
            let connection = try #require(try await accepted.next())
            try await connection.executeThenClose { inbound, _ in
                var frames = inbound.makeAsyncIterator()
                let first = try await frames.next()
                #expect(first.map { Array($0.readableBytesView) } == [7, 7, 7])
                do {
                    _ = try await frames.next()
                    Issue.record("the truncated second frame was not reported")
                } catch {
                    #expect(error as? FramingError == .truncatedPayload(expectedBytes: 50, receivedBytes: 2))
                }
            }
        }
    }

    @Test("error messages name the sizes involved")
    func messages() {
        #expect(FramingError.frameTooLarge(length: 5, maximum: 4).description.contains("5 bytes exceeds the maximum frame size of 4"))
        #expect(FramingError.truncatedPayload(expectedBytes: 10, receivedBytes: 3).description.contains("3 of 10"))
        #expect(FramingError.truncatedHeader(receivedBytes: 2).description.contains("2 of the 4"))
    }
}
