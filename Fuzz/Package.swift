// swift-tools-version: 6.0
// Coverage-guided fuzz targets for WardenCore, kept out of the main package because they
// link only when built with libFuzzer:
//
//   swift build -c release --package-path Fuzz -Xswiftc -sanitize=fuzzer,address
//
// `scripts/fuzz.sh` (and `make fuzz`) build and run them; see docs/RELIABILITY.md.
import PackageDescription

let targets = ["FuzzPostParser", "FuzzNormalizer", "FuzzRuleLoader", "FuzzTemplate", "FuzzJudge"]

let package = Package(
    name: "WardenFuzz",
    platforms: [.macOS(.v15)],
    products: targets.map { .executable(name: $0, targets: [$0]) },
    dependencies: [.package(name: "Warden", path: "..")],
    targets: targets.map {
        .executableTarget(name: $0, dependencies: ["CFuzzerDriver", .product(name: "WardenFuzzChecks", package: "Warden")])
    } + [
        // Declares libFuzzer's LLVMFuzzerRunDriver, which each target's main.swift calls.
        .target(name: "CFuzzerDriver")
    ],
    swiftLanguageModes: [.v6]
)
