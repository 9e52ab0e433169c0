// swift-tools-version: 6.0
// Benchmarks that link WardenCore directly, kept out of the main package so that they
// never slow `swift build` or `swift test`. Build with `swift build -c release --package-path Benchmarks`.
import PackageDescription

let package = Package(
    name: "WardenBenchmarks",
    platforms: [.macOS(.v15)],
    products: [.executable(name: "redos-bench", targets: ["redos-bench"])],
    dependencies: [.package(name: "Warden", path: "..")],
    targets: [
        // Per-post judging time under a ReDoS attack (scripts/bench-redos.py drives it).
        .executableTarget(name: "redos-bench", dependencies: [.product(name: "WardenCore", package: "Warden")])
    ],
    swiftLanguageModes: [.v6]
)
