#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The real Nitro Secure Module, reached through `/dev/nsm` with the driver's single ioctl.
///
/// The ioctl takes `struct nsm_raw { nsm_iovec request; nsm_iovec response; }` where
/// `nsm_iovec` is `{ __u64 addr; __u64 len; }` (uapi `linux/nsm.h`); the driver writes the
/// CBOR response into our buffer and the response length back into `response.len`.
public final class NSMDevice: NSMInterface {
    public static let defaultPath = "/dev/nsm"
    static let requestLimit = 0x1000
    static let responseCapacity = 0x3000
    /// `_IOWR(0x0A, 0, struct nsm_raw)`: direction 3 << 30, size 32 << 16, magic 0x0A << 8, nr 0.
    static let ioctlRequest: UInt = (3 << 30) | (32 << 16) | (0x0A << 8) | 0

    private let descriptor: Int32

    /// Opens the device once; concurrent calls on one descriptor are serialised by the driver.
    public init(path: String = NSMDevice.defaultPath) throws(NSMError) {
        #if canImport(Glibc) || canImport(Musl)
            let fd = open(path, O_RDWR | O_CLOEXEC)
            guard fd >= 0 else { throw .deviceUnavailable(path: path, errno: errno) }
            descriptor = fd
        #else
            throw .unsupportedPlatform
        #endif
    }

    deinit {
        #if canImport(Glibc) || canImport(Musl)
            close(descriptor)
        #endif
    }

    public func attest(nonce: [UInt8]?, userData: [UInt8]?, publicKey: [UInt8]?) throws(NSMError) -> [UInt8] {
        switch try exchange(.attestation(userData: userData, nonce: nonce, publicKey: publicKey)) {
        case .attestation(let document): return document
        case let other: throw Self.unexpected(other, for: "Attestation")
        }
    }

    public func describePCR(index: UInt16) throws(NSMError) -> PCRDescription {
        switch try exchange(.describePCR(index: index)) {
        case .describePCR(let lock, let data): return PCRDescription(locked: lock, value: data)
        case let other: throw Self.unexpected(other, for: "DescribePCR")
        }
    }

    public func getRandom() throws(NSMError) -> [UInt8] {
        switch try exchange(.getRandom) {
        case .getRandom(let random): return random
        case let other: throw Self.unexpected(other, for: "GetRandom")
        }
    }

    private static func unexpected(_ response: NSMResponse, for request: String) -> NSMError {
        if case .error(let code) = response { return .moduleError(code) }
        return .unexpectedResponse(expected: request, got: response.variant)
    }

    private func exchange(_ request: NSMRequest) throws(NSMError) -> NSMResponse {
        var requestBytes = request.encoded()
        guard requestBytes.count <= Self.requestLimit else {
            throw .requestTooLarge(size: requestBytes.count, limit: Self.requestLimit)
        }
        #if canImport(Glibc) || canImport(Musl)
            var response = [UInt8](repeating: 0, count: Self.responseCapacity)
            let (status, code, length) = requestBytes.withUnsafeMutableBytes { requestBuffer in
                response.withUnsafeMutableBytes { responseBuffer in
                    // Four u64s laid out exactly like `struct nsm_raw` (homogeneous tuples are contiguous).
                    var raw: (UInt64, UInt64, UInt64, UInt64) = (
                        UInt64(UInt(bitPattern: requestBuffer.baseAddress)), UInt64(requestBuffer.count),
                        UInt64(UInt(bitPattern: responseBuffer.baseAddress)), UInt64(responseBuffer.count)
                    )
                    let status = withUnsafeMutablePointer(to: &raw) { ioctl(descriptor, Self.ioctlRequest, $0) }
                    return (status, errno, raw.3)
                }
            }
            guard status == 0 else { throw .ioctlFailed(errno: code) }
            guard length <= UInt64(Self.responseCapacity) else {
                throw .malformedResponse("driver reported \(length) bytes in a \(Self.responseCapacity)-byte buffer")
            }
            return try NSMResponse(decoding: Array(response[..<Int(length)]))
        #else
            throw .unsupportedPlatform
        #endif
    }
}
