/// An HTTP CONNECT proxy every upstream connection goes through. In the enclave the workers reach
/// the internet only via the host proxy's local end, `127.0.0.1:3128`.
public struct EgressProxy: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` (`[v6]:port` for IPv6 literals); nil when either part is missing or the
    /// port is not 1...65535.
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65535).contains(port)
        else { return nil }
        var host = Substring(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard !host.isEmpty else { return nil }
        self.init(host: String(host), port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Network behaviour shared by every HTTP adapter.
public struct UpstreamConfiguration: Sendable {
    /// TCP (and proxy CONNECT) establishment limit.
    public var connectTimeout: Duration
    /// Longest silence between two received bytes. Reasoning models can think for a while before
    /// the first token, so this is generous; streams that stall longer end with `.timeout`.
    public var readTimeout: Duration
    /// Cap on one whole request including its streamed body.
    public var requestDeadline: Duration
    public var proxy: EgressProxy?
    /// Largest single server-sent event accepted from upstream.
    public var maxEventBytes: Int

    public init(
        connectTimeout: Duration = .seconds(15), readTimeout: Duration = .seconds(120),
        requestDeadline: Duration = .seconds(900), proxy: EgressProxy? = nil, maxEventBytes: Int = 4 << 20
    ) {
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.requestDeadline = requestDeadline
        self.proxy = proxy
        self.maxEventBytes = maxEventBytes
    }
}
