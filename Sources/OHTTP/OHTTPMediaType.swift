/// Content types of the OHTTP exchange, spelled once for the gateway, worker and proxy.
public enum OHTTPMediaType {
    public static let keys = "application/ohttp-keys"
    public static let request = "message/ohttp-req"
    /// draft-ietf-ohai-chunked-ohttp-08.
    public static let chunkedRequest = "message/ohttp-chunked-req"
    public static let response = "message/ohttp-res"
    public static let chunkedResponse = "message/ohttp-chunked-res"
    public static let binaryHTTP = "message/bhttp"
}
