// swift-tools-version: 6.2
import PackageDescription

/// One strict settings array, applied to every target.
let strictSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .treatAllWarnings(as: .error),
]

let package = Package(
    name: "Orbit",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "LuaRuntime", targets: ["LuaRuntime"]),
        .library(name: "Orbit", targets: ["Orbit"]),
        .library(name: "OrbitSQLite", targets: ["OrbitSQLite"]),
        .executable(name: "orbit", targets: ["orbit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLua",
            pkgConfig: "lua5.4",
            providers: [.apt(["liblua5.4-dev"])]
        ),
        .systemLibrary(
            name: "CEdit",
            pkgConfig: "libedit",
            providers: [.apt(["libedit-dev"])]
        ),
        .target(
            name: "LuaRuntime",
            dependencies: [
                "CLua",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "Orbit",
            dependencies: [
                "LuaRuntime",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "OrbitSQLite",
            dependencies: [
                "Orbit",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "orbit",
            dependencies: [
                "CEdit",
                "LuaRuntime",
                "Orbit",
                "OrbitSQLite",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings,
            // jemalloc for the command's allocations on Linux: the replay allocates and frees on several threads at
            // once, where glibc's malloc costs about a tenth of the run's CPU more (docs/benchmarks.md). The
            // libraries leave the allocator to the program that embeds them.
            linkerSettings: [.linkedLibrary("jemalloc", .when(platforms: [.linux]))]
        ),
        .executableTarget(
            name: "checkout-service",
            dependencies: [
                "Orbit",
                "OrbitSQLite",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "examples/checkout-service/Sources",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "LuaRuntimeTests",
            dependencies: ["LuaRuntime"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "OrbitTests",
            dependencies: ["Orbit", "LuaRuntime"],
            resources: [.copy("Fixtures")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "OrbitCLITests",
            dependencies: ["orbit", "checkout-service"],
            exclude: ["Fixtures"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "OrbitSQLiteTests",
            dependencies: [
                "OrbitSQLite", "Orbit", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: strictSettings
        ),
    ]
)
