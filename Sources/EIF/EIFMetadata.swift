import GatewayCore

/// The metadata section (EIF version 4): upstream's `EifIdentityInfo` as serde_json writes it,
/// compact and in declaration order. It is in no PCR, but its `BuildTime` is the one field that
/// would make two otherwise identical EIF files differ, so callers pass a fixed time
/// (`SOURCE_DATE_EPOCH`) when they want byte-identical images.
public struct EIFMetadata: Sendable, Equatable {
    public var imageName: String
    public var imageVersion: String
    /// RFC 3339, as chrono's `to_rfc3339()` writes it upstream.
    public var buildTime: String
    public var buildTool = "gatewayctl"
    public var buildToolVersion = "1"
    public var operatingSystem = "Unknown"
    public var kernelVersion = "Unknown"

    public init(imageName: String, imageVersion: String, buildTime: String) {
        self.imageName = imageName
        self.imageVersion = imageVersion
        self.buildTime = buildTime
    }

    public func encoded() -> [UInt8] {
        let build = JSONObject([
            ("BuildTime", .string(buildTime)), ("BuildTool", .string(buildTool)),
            ("BuildToolVersion", .string(buildToolVersion)), ("OperatingSystem", .string(operatingSystem)),
            ("KernelVersion", .string(kernelVersion)),
        ])
        let root = JSONObject([
            ("ImageName", .string(imageName)), ("ImageVersion", .string(imageVersion)), ("BuildMetadata", .object(build)),
            ("DockerInfo", .null), ("CustomMetadata", .null),
        ])
        return JSONWriter.serialize(.object(root), style: .compact)
    }
}
