import EnclaveIPC

/// How tls-front reaches a worker over HTTP. Workers listen on Unix sockets in the enclave;
/// TCP is accepted for tests and local debugging. vsock is refused: workers run in the same
/// enclave as tls-front.
enum WorkerAddress {
    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    static func validate(_ endpoint: Endpoint) throws(TLSFrontError) {
        if case .vsock = endpoint.address {
            throw .invalidConfiguration("worker \(endpoint): workers are reached over unix:// or tcp://, not vsock://")
        }
    }

    /// The AsyncHTTPClient URL for `pathAndQuery` on `endpoint` (`http+unix://` with the socket
    /// path percent-encoded as the host, as AsyncHTTPClient expects).
    static func url(_ endpoint: Endpoint, _ pathAndQuery: String) -> String {
        switch endpoint.address {
        case .unix(let path):
            // Built byte by byte: this runs for every forwarded request, and a String per byte
            // was 3% of tls-front's CPU in the profile.
            var url = Array("http+unix://".utf8)
            url.reserveCapacity(url.count + 3 * path.utf8.count + pathAndQuery.utf8.count)
            for byte in path.utf8 {
                let isUnreserved = (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                    || byte == 0x2D || byte == 0x2E || byte == 0x5F || byte == 0x7E
                if isUnreserved {
                    url.append(byte)
                } else {
                    url += [UInt8(ascii: "%"), Self.hexDigits[Int(byte >> 4)], Self.hexDigits[Int(byte & 0x0F)]]
                }
            }
            url += pathAndQuery.utf8
            return String(decoding: url, as: UTF8.self)
        case .tcp(let host, let port):
            return host.contains(":") ? "http://[\(host)]:\(port)\(pathAndQuery)" : "http://\(host):\(port)\(pathAndQuery)"
        case .vsock(let cid, let port):
            return "http://vsock-\(cid)-\(port)\(pathAndQuery)"
        }
    }
}
