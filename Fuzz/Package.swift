// swift-tools-version:6.1
import PackageDescription

// libFuzzer targets for every parser that reads bytes from outside a process. They live in their
// own package (like Benchmarks/) so the normal debug build and `swift build --build-tests` never
// compile them; `scripts/fuzz` builds this package with `-sanitize=fuzzer,address` into
// `.build-fuzz` and runs each target over a copy of its seed corpus in `Fuzz/Corpus/<target>/`.
//
// Debug builds only: several targets reach internal parsers with `@testable import`, which needs
// the library modules compiled with testing enabled (SwiftPM's debug default).

/// One executable per target; `libraries` are products of the root package.
func fuzzTarget(_ name: String, _ libraries: [String], extra: [Target.Dependency] = []) -> Target {
    .executableTarget(
        name: name,
        dependencies: ["FuzzSupport"] + libraries.map { .product(name: $0, package: "enclave-gateway") } + extra,
        path: "Targets/\(name)"
    )
}

let nioCore: Target.Dependency = .product(name: "NIOCore", package: "swift-nio")
let nioEmbedded: Target.Dependency = .product(name: "NIOEmbedded", package: "swift-nio")

let package = Package(
    name: "enclave-gateway-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "enclave-gateway", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .target(name: "FuzzSupport", path: "Sources/FuzzSupport"),
        fuzzTarget("FuzzJSON", ["GatewayCore"]),
        fuzzTarget("FuzzCanonicalizer", ["GatewayCore"]),
        fuzzTarget("FuzzCBOR", ["Attestation"]),
        fuzzTarget("FuzzCOSE", ["Attestation"]),
        fuzzTarget("FuzzNSMResponse", ["Attestation"]),
        fuzzTarget("FuzzSSE", ["GatewayCore"]),
        fuzzTarget("FuzzProxyHeader", ["EnclaveIPC"]),
        fuzzTarget("FuzzConnectHead", ["HostProxyKit"], extra: [nioCore, nioEmbedded]),
        fuzzTarget("FuzzFrameDecoder", ["EnclaveIPC"], extra: [nioCore]),
        fuzzTarget("FuzzKeyServiceCodec", ["EnclaveIPC"], extra: [nioCore]),
        fuzzTarget("FuzzControlCommand", ["SupervisorKit", "EnclaveIPC"], extra: [nioCore]),
        fuzzTarget("FuzzOHTTPKeyConfigs", ["OHTTP"]),
        fuzzTarget("FuzzOHTTPRequest", ["OHTTP"]),
        fuzzTarget("FuzzOHTTPChunkedResponse", ["OHTTP"]),
        fuzzTarget("FuzzBinaryHTTP", ["OHTTP"]),
    ],
    swiftLanguageModes: [.v5]
)
