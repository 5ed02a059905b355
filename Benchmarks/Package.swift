// swift-tools-version:6.1
import PackageDescription

// Benchmarks live in their own package so `scripts/test` and CI never build the benchmark
// toolchain; run them with `scripts/bench`.
let package = Package(
    name: "enclave-gateway-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "enclave-gateway", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "SigningBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "GatewayCore", package: "enclave-gateway"),
                .product(name: "OHTTP", package: "enclave-gateway"),
            ],
            path: "Benchmarks/SigningBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)
