/// Why a text could not be turned into an `Endpoint`. Each message quotes the offending part and
/// says what was expected, so a mistyped flag or config value can be fixed without reading code.
public enum EndpointError: Error, Hashable, Sendable, CustomStringConvertible {
    case empty
    case tooLong(length: Int, maximum: Int)
    case missingScheme(String)
    case unknownScheme(String)
    case missingHost(String)
    case missingPort(String)
    case invalidPort(String)
    case portOutOfRange(String, maximum: UInt32)
    case missingCID(String)
    case invalidCID(String)
    case cidOutOfRange(String)
    case unexpectedPath(String)
    case invalidHost(String, reason: String)
    case relativeUnixPath(String)
    case invalidUnixPath(String, reason: String)
    case unixPathTooLong(String, bytes: Int, maximum: Int)

    public var description: String {
        switch self {
        case .empty:
            return "endpoint is empty; expected vsock://CID:PORT, unix:///absolute/path or tcp://HOST:PORT"
        case .tooLong(let length, let maximum):
            return "endpoint is \(length) bytes long; the maximum is \(maximum)"
        case .missingScheme(let text):
            return "endpoint '\(text)' has no scheme; expected vsock://, unix:// or tcp://"
        case .unknownScheme(let scheme):
            return "unknown endpoint scheme '\(scheme)'; expected vsock, unix or tcp"
        case .missingHost(let text):
            return "endpoint '\(text)' has no host before the port"
        case .missingPort(let text):
            return "endpoint '\(text)' has no port; expected HOST:PORT or CID:PORT"
        case .invalidPort(let port):
            return "port '\(port)' is not a decimal number without sign or leading zeros"
        case .portOutOfRange(let port, let maximum):
            return "port \(port) is out of range; the maximum is \(maximum)"
        case .missingCID(let text):
            return "vsock endpoint '\(text)' has no CID before the port"
        case .invalidCID(let cid):
            return "vsock CID '\(cid)' is not a decimal number without sign or leading zeros"
        case .cidOutOfRange(let cid):
            return "vsock CID \(cid) is out of range; the maximum is \(UInt32.max) (VMADDR_CID_ANY)"
        case .unexpectedPath(let text):
            return "endpoint '\(text)' has a path, query or fragment after the port; remove it"
        case .invalidHost(let host, let reason):
            return "host '\(host)' is invalid: \(reason)"
        case .relativeUnixPath(let path):
            return "unix socket path '\(path)' is relative; write unix:///absolute/path (three slashes)"
        case .invalidUnixPath(let path, let reason):
            return "unix socket path '\(path)' is invalid: \(reason)"
        case .unixPathTooLong(let path, let bytes, let maximum):
            return "unix socket path '\(path)' is \(bytes) bytes; sockaddr_un holds at most \(maximum)"
        }
    }
}
