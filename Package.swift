// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Warden",
    // Linux only (inotify, syncfs); the macOS entry only lets Synchronization.Mutex type-check there.
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "warden", targets: ["warden"]),
        .library(name: "WardenCore", targets: ["WardenCore"]),
        // What the fuzz targets (Fuzz/) check, shared with FuzzRegressionTests; never in `warden`.
        .library(name: "WardenFuzzChecks", targets: ["WardenFuzzChecks"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        // postgres-nio's own dependencies, named for the event loop group and TLS it needs from us.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.29.0"),
    ],
    targets: [
        // Debian's libpcre2-dev seen through pkg-config.
        .systemLibrary(
            name: "CPCRE2",
            pkgConfig: "libpcre2-8",
            providers: [.apt(["libpcre2-dev"])]
        ),
        // glibc's <malloc.h> (heap statistics at each memory prune); libc, nothing to link.
        .systemLibrary(name: "CMalloc", path: "Sources/CMalloc"),
        // Pure judging: posts, rules, matching, decisions, messages. No spool I/O.
        .target(
            name: "WardenCore",
            dependencies: [
                "CPCRE2",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The long-running parts: spool, watcher, ledger, reload, notify, metrics.
        .target(
            name: "WardenDaemon",
            dependencies: [
                "WardenCore",
                "CMalloc",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // The review console (`warden console`): its own process over the daemon's state
        // directory, so that web traffic never competes with the judging threads.
        .target(
            name: "WardenConsole",
            dependencies: [
                "WardenCore",
                "WardenDaemon",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "warden",
            dependencies: [
                "WardenCore",
                "WardenDaemon",
                "WardenConsole",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "WardenFuzzChecks", dependencies: ["WardenCore"]),
        .testTarget(name: "WardenCoreTests", dependencies: ["WardenCore", "WardenFuzzChecks"]),
        .testTarget(name: "WardenDaemonTests", dependencies: ["WardenDaemon", "WardenCore"]),
        .testTarget(name: "WardenConsoleTests", dependencies: ["WardenConsole", "WardenDaemon", "WardenCore"]),
        .testTarget(name: "EndToEndTests", dependencies: []),
    ],
    swiftLanguageModes: [.v6]
)
