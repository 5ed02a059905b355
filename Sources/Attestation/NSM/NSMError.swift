/// Failures talking to an NSM, real or simulated.
public enum NSMError: Error, Equatable, CustomStringConvertible {
    /// `/dev/nsm` could not be opened: not inside a Nitro Enclave, or the driver is missing.
    case deviceUnavailable(path: String, errno: Int32)
    case unsupportedPlatform
    case requestTooLarge(size: Int, limit: Int)
    case ioctlFailed(errno: Int32)
    case malformedResponse(String)
    case moduleError(NSMErrorCode)
    case unexpectedResponse(expected: String, got: String)
    case signingFailed(String)
    case invalidPCR(index: Int, length: Int)

    public var description: String {
        switch self {
        case .deviceUnavailable(let path, let errno):
            "NSM device \(path) cannot be opened (errno \(errno)): not running inside a Nitro Enclave? "
                + "Use the simulated NSM for development"
        case .unsupportedPlatform: "NSM device access needs Linux (the enclave's OS)"
        case .requestTooLarge(let size, let limit): "NSM request is \(size) bytes, the driver accepts at most \(limit)"
        case .ioctlFailed(let errno): "NSM ioctl failed with errno \(errno)"
        case .malformedResponse(let reason): "NSM response is malformed: \(reason)"
        case .moduleError(let code): "NSM returned error \(code.rawValue)"
        case .unexpectedResponse(let expected, let got): "NSM answered \(got) to a \(expected) request"
        case .signingFailed(let reason): "simulated NSM could not sign: \(reason)"
        case .invalidPCR(let index, let length):
            "simulated NSM: PCR\(index) with \(length) bytes is not settable (indexes 0...15, 48 bytes each)"
        }
    }
}
