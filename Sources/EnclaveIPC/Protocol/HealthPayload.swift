import GatewayCore

/// What the key service reports about itself; tls-front builds `/health` from it.
public struct KeyServiceHealth: Hashable, Sendable {
    public let teeID: TEEID
    /// False when running with the simulated NSM (dev mode and tests).
    public let teeEnabled: Bool
    /// Providers that currently have an API key.
    public let providers: [String]
    public let uptimeSeconds: UInt64

    public init(teeID: TEEID, teeEnabled: Bool, providers: [String], uptimeSeconds: UInt64) {
        self.teeID = teeID
        self.teeEnabled = teeEnabled
        self.providers = providers
        self.uptimeSeconds = uptimeSeconds
    }

    static let fields: Set<String> = ["teeID", "teeEnabled", "providers", "uptimeSeconds"]

    init(from reader: WireReader) throws(KeyServiceProtocolError) {
        self.init(
            teeID: try reader.teeID("teeID"),
            teeEnabled: try reader.bool("teeEnabled"),
            providers: try ProviderName.list("providers", in: reader),
            uptimeSeconds: try reader.integer("uptimeSeconds")
        )
    }

    func write(to writer: inout WireWriter) throws {
        try writer.write(bytes: teeID.digest.bytes, "teeID")
        try writer.write(teeEnabled, "teeEnabled")
        try writer.write(providers, "providers")
        try writer.write(uptimeSeconds, "uptimeSeconds")
    }
}
