// swift-tools-version:6.1
import PackageDescription

// One package, one EIF: the enclave processes, the host proxy and the client tools share the
// libraries below. Executables stay thin; everything they do lives in a library with tests.

let crypto: [Target.Dependency] = [
    .product(name: "Crypto", package: "swift-crypto"),
    .product(name: "_CryptoExtras", package: "swift-crypto"),
]
let nio: [Target.Dependency] = [
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOPosix", package: "swift-nio"),
]
let log: Target.Dependency = .product(name: "Logging", package: "swift-log")
let cli: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")
let hummingbird: Target.Dependency = .product(name: "Hummingbird", package: "hummingbird")

let package = Package(
    name: "enclave-gateway",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "supervisor", targets: ["Supervisor"]),
        .executable(name: "key-service", targets: ["KeyService"]),
        .executable(name: "tls-front", targets: ["TLSFront"]),
        .executable(name: "inference-worker", targets: ["InferenceWorker"]),
        .executable(name: "host-proxy", targets: ["HostProxy"]),
        .executable(name: "confidential-proxy", targets: ["ConfidentialProxy"]),
        .executable(name: "gatewayctl", targets: ["GatewayCtl"]),
        .library(name: "GatewayCore", targets: ["GatewayCore"]),
        .library(name: "Attestation", targets: ["Attestation"]),
        .library(name: "OHTTP", targets: ["OHTTP"]),
        .library(name: "EnclaveIPC", targets: ["EnclaveIPC"]),
        .library(name: "Providers", targets: ["Providers"]),
        .library(name: "InferenceAPI", targets: ["InferenceAPI"]),
        .library(name: "GatewayContracts", targets: ["GatewayContracts"]),
        .library(name: "GatewayClient", targets: ["GatewayClient"]),
        // Exported for the fuzz package (Fuzz/Package.swift), which depends on this one by path.
        .library(name: "HostProxyKit", targets: ["HostProxyKit"]),
        .library(name: "SupervisorKit", targets: ["SupervisorKit"]),
        .library(name: "ConfidentialProxyKit", targets: ["ConfidentialProxyKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // MARK: Libraries
        .target(name: "GatewayCore", dependencies: crypto),
        .target(
            name: "Attestation",
            dependencies: ["GatewayCore"] + crypto + [
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),
        .target(name: "OHTTP", dependencies: ["GatewayCore"] + crypto),
        .target(
            name: "EnclaveIPC",
            dependencies: [
                "GatewayCore", log,
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ] + nio
        ),
        .target(
            name: "Providers",
            dependencies: [
                "GatewayCore", log, .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ] + nio
        ),
        .target(name: "InferenceAPI", dependencies: ["GatewayCore"]),
        // x402 payments (docs/payments.md): configuration, wire types, exact pricing, the
        // facilitator client, the paid-route gate and the upto session journal.
        .target(
            name: "Payments",
            dependencies: ["GatewayCore", "Providers", log, .product(name: "Metrics", package: "swift-metrics")]
        ),
        // Wire contracts both the enclave and its clients speak that need more than GatewayCore
        // (the key-injection envelope is HPKE-sealed), so no client links key-service code.
        .target(name: "GatewayContracts", dependencies: ["GatewayCore", "OHTTP"] + crypto),
        // Everything a client does (attest, pin, OHTTP, verify tee_*); links no server code.
        .target(
            name: "GatewayClient",
            dependencies: [
                "GatewayCore", "Attestation", "OHTTP", "GatewayContracts", "InferenceAPI",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ] + nio + crypto
        ),
        // The enclave image format: EIF writer/reader, PCRs, the newc ramdisk (docs/eif.md).
        .target(
            name: "EIF",
            dependencies: ["GatewayCore", "Attestation"] + crypto + [
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),

        // confidential-proxy's logic: configuration, the local OpenAI/Anthropic server, the
        // verified OHTTP path, the sealed disk cache and the daemon commands. Client code only.
        .target(
            name: "ConfidentialProxyKit",
            dependencies: [
                "GatewayClient", "GatewayCore", "Attestation", "OHTTP", "CSodium", hummingbird, log,
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ] + crypto + nio
        ),
        // XChaCha20-Poly1305 from libsodium (Debian: libsodium-dev, installed by scripts/bootstrap).
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),

        // The processes' logic, one library each, so executables stay thin and it is testable.
        .target(
            name: "KeyServiceKit",
            dependencies: ["GatewayCore", "GatewayContracts", "Attestation", "OHTTP", "EnclaveIPC", "COpenSSL", log] + crypto
        ),
        // OpenSSL 3's libcrypto for key-service's RSA signing (Debian: libssl-dev, installed by
        // scripts/bootstrap); linked by key-service only.
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .target(
            name: "WorkerKit",
            dependencies: [
                "GatewayCore", "InferenceAPI", "Providers", "EnclaveIPC", "OHTTP", "Payments", hummingbird, log,
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        .target(
            name: "TLSFrontKit",
            dependencies: [
                "GatewayCore", "EnclaveIPC", "InferenceAPI", hummingbird, log,
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ] + crypto + nio
        ),
        .target(
            name: "SupervisorKit",
            dependencies: [
                "EnclaveIPC", "GatewayCore", "CProcess", log, .product(name: "Prometheus", package: "swift-prometheus"),
            ] + nio
        ),
        // fork/exec with a new identity, and prctl: what must happen between fork and exec, or
        // through C's variadic prctl, which Swift cannot call.
        .target(name: "CProcess"),
        .target(
            name: "HostProxyKit",
            dependencies: [
                "EnclaveIPC", "GatewayCore", "CSystemd", log, hummingbird,
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ] + nio
        ),
        // sd_notify/watchdog from libsystemd (Debian: libsystemd-dev, installed by scripts/bootstrap).
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),

        // MARK: Executables
        .executableTarget(name: "Supervisor", dependencies: ["SupervisorKit", "EnclaveIPC", "Payments", cli, log]),
        .executableTarget(name: "KeyService", dependencies: ["KeyServiceKit", "EnclaveIPC", "Attestation", "CProcess", cli, log]),
        .executableTarget(name: "TLSFront", dependencies: ["TLSFrontKit", "EnclaveIPC", cli, log]),
        .executableTarget(name: "InferenceWorker", dependencies: ["WorkerKit", "EnclaveIPC", "Providers", "Payments", cli, log]),
        .executableTarget(
            name: "HostProxy",
            dependencies: ["HostProxyKit", "EnclaveIPC", cli, log, .product(name: "Crypto", package: "swift-crypto")]
        ),
        .executableTarget(name: "ConfidentialProxy", dependencies: ["ConfidentialProxyKit", cli, log]),
        .executableTarget(
            name: "GatewayCtl",
            dependencies: [
                "GatewayClient", "GatewayContracts", "GatewayCore", "Attestation", "OHTTP", "EIF", cli,
            ] + crypto
        ),

        // MARK: Tests
        .testTarget(
            name: "GatewayCoreTests",
            dependencies: ["GatewayCore", .product(name: "Crypto", package: "swift-crypto")],
            exclude: ["Differential"]
        ),
        .testTarget(
            name: "AttestationTests",
            dependencies: [
                "Attestation",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            exclude: ["Oracle"]
        ),
        .testTarget(name: "OHTTPTests", dependencies: ["OHTTP", "GatewayCore"], exclude: ["Oracle"]),
        .testTarget(name: "GatewayClientTests", dependencies: ["GatewayClient", "GatewayCore", "OHTTP"]),
        .testTarget(name: "EnclaveIPCTests", dependencies: ["EnclaveIPC", log] + nio),
        .testTarget(name: "KeyServiceKitTests", dependencies: ["KeyServiceKit", "GatewayContracts"]),
        .testTarget(
            name: "WorkerKitTests",
            dependencies: [
                "WorkerKit", "KeyServiceKit", "EnclaveIPC", "Attestation", "Providers", "GatewayCore", "OHTTP", "UpstreamMock", log,
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ] + nio,
            exclude: ["Clients"]  // the official-SDK scripts the fidelity tests run
        ),
        .testTarget(name: "TLSFrontKitTests", dependencies: ["TLSFrontKit"]),
        .testTarget(name: "ConfidentialProxyKitTests", dependencies: ["ConfidentialProxyKit", "CSodium"] + crypto),
        .testTarget(
            name: "SupervisorKitTests",
            dependencies: ["SupervisorKit", "GatewayCore", .product(name: "Crypto", package: "swift-crypto")],
            exclude: ["Children"]
        ),
        .testTarget(
            name: "HostProxyKitTests",
            dependencies: ["HostProxyKit", .product(name: "NIOEmbedded", package: "swift-nio")]
        ),
        // A scripted provider on loopback, shared by the Providers and WorkerKit tests.
        .target(
            name: "UpstreamMock",
            dependencies: ["GatewayCore", .product(name: "NIOHTTP1", package: "swift-nio")] + nio,
            path: "Tests/UpstreamMock"
        ),
        .testTarget(
            name: "ProvidersTests",
            dependencies: ["Providers", "UpstreamMock", .product(name: "NIOHTTP1", package: "swift-nio")] + nio
        ),
        .testTarget(
            name: "PaymentsTests", dependencies: ["Payments", "GatewayCore", "Providers", "UpstreamMock"], exclude: ["signed_cost_vector.py"]
        ),
        .testTarget(name: "InferenceAPITests", dependencies: ["InferenceAPI"], exclude: ["Oracle"]),
        // Depends on GatewayCtl so `swift test` builds the gatewayctl the CLI tests run.
        .testTarget(
            name: "EIFTests",
            dependencies: ["EIF", "Attestation", "GatewayCtl"] + crypto + [.product(name: "X509", package: "swift-certificates")],
            exclude: ["Oracle"]
        ),
        // Depend on the executables so `swift test` builds the binaries they run.
        .testTarget(
            name: "ApplianceTests",
            dependencies: [
                "Supervisor", "KeyService", "TLSFront", "InferenceWorker", "HostProxy", "GatewayCtl", "GatewayCore",
                "GatewayClient", "Attestation", "ConfidentialProxy", "Providers",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ] + crypto,
            exclude: ["Clients"]
        ),
        .testTarget(
            name: "GatewayCtlTests",
            dependencies: ["GatewayCtl", "Supervisor", "KeyService", "TLSFront", "InferenceWorker", "HostProxy", "ConfidentialProxy"]
        ),
    ]
)
