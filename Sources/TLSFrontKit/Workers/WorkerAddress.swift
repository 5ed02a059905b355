import EnclaveIPC

/// How tls-front reaches a worker over HTTP. Workers listen on Unix sockets in the enclave;
/// TCP is accepted for tests and local debugging. vsock is refused: workers run in the same
/// enclave as tls-front.
enum WorkerAddress {
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
            let host = path.utf8.map { byte -> String in
                let isUnreserved = (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                    || byte == 0x2D || byte == 0x2E || byte == 0x5F || byte == 0x7E
                return isUnreserved ? String(UnicodeScalar(byte)) : "%" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }.joined()
            return "http+unix://\(host)\(pathAndQuery)"
        case .tcp(let host, let port):
            return host.contains(":") ? "http://[\(host)]:\(port)\(pathAndQuery)" : "http://\(host):\(port)\(pathAndQuery)"
        case .vsock(let cid, let port):
            return "http://vsock-\(cid)-\(port)\(pathAndQuery)"
        }
    }
}
