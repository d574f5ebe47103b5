// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "ai-gateway",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "gatewayd", targets: ["gatewayd"]),
        .executable(name: "gatewayctl", targets: ["gatewayctl"]),
        // The libraries, for the libFuzzer targets in fuzz/ (a package of its own that depends on this one).
        .library(name: "GatewayRules", targets: ["GatewayRules"]),
        .library(name: "GatewayDocuments", targets: ["GatewayDocuments"]),
        .library(name: "GatewayAudit", targets: ["GatewayAudit"]),
        .library(name: "GatewayCore", targets: ["GatewayCore"]),
        .library(name: "GatewayConfig", targets: ["GatewayConfig"]),
        .library(name: "GatewayCrypto", targets: ["GatewayCrypto"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // MARK: C libraries of the operating system (the only place C appears)
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CPCRE2", pkgConfig: "libpcre2-8", providers: [.apt(["libpcre2-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CPoppler", pkgConfig: "poppler-glib", providers: [.apt(["libpoppler-glib-dev"])]),
        .systemLibrary(name: "CTesseract", pkgConfig: "tesseract", providers: [.apt(["libtesseract-dev"])]),

        // MARK: Libraries, dependencies pointing downward
        /// Hashes, HMAC, AES-GCM, random bytes and constant-time compare, all through the system OpenSSL.
        .target(name: "GatewayCrypto", dependencies: ["COpenSSL"]),
        /// TLS contexts, connections and NIO handlers over the system OpenSSL. Knows nothing of HTTP.
        .target(
            name: "GatewayTLS",
            dependencies: [
                "COpenSSL", "GatewayCrypto",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ]
        ),
        /// Text out of uploaded documents: PDF (poppler), Office Open XML, ZIP, e-mail, HTML, RTF, images (Tesseract
        /// OCR), under limits. Knows nothing of rules or HTTP.
        .target(name: "GatewayDocuments", dependencies: ["CPoppler", "CTesseract", "CZlib"]),
        /// Classification: PCRE2 rule packs, validators, normalisation, JSON walking, redaction. Knows nothing of HTTP.
        .target(
            name: "GatewayRules",
            dependencies: ["CPCRE2", "CZlib", "GatewayCrypto", "GatewayDocuments", .product(name: "Yams", package: "Yams")]
        ),
        /// Gateway keys (format, keys file, lookup), and rate limiting. Knows nothing of HTTP.
        .target(name: "GatewayAccess", dependencies: ["GatewayCrypto", "CZlib"]),
        /// Decision records: tamper-evident JSON Lines log, quarantine of blocked bodies. Knows nothing of HTTP or NIO.
        .target(name: "GatewayAudit", dependencies: ["GatewayCrypto"]),
        /// Reports over decision records: per-segment summaries (the index), figures, text/JSON/HTML. No NIO, no HTTP.
        .target(name: "GatewayReports", dependencies: ["GatewayAudit", "GatewayConfig"]),
        /// The gateway configuration: YAML decoding and whole-file validation. Knows nothing of NIO.
        .target(name: "GatewayConfig", dependencies: [.product(name: "Yams", package: "Yams")]),
        /// The proxy engine: listeners, request phases, upstream pool, admin endpoints.
        .target(
            name: "GatewayCore",
            dependencies: [
                "GatewayTLS", "GatewayRules", "GatewayDocuments", "GatewayConfig", "GatewayCrypto", "GatewayAccess",
                "GatewayAudit", "GatewayReports",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),

        // MARK: Executables: wiring only
        .executableTarget(
            name: "gatewayd",
            dependencies: [
                "GatewayCore", "GatewayConfig", "GatewayTLS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "gatewayctl",
            dependencies: [
                "GatewayCore", "GatewayTLS", "GatewayRules", "GatewayConfig", "GatewayCrypto", "GatewayAccess",
                "GatewayAudit", "GatewayReports",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        /// Rule-engine throughput benchmark (`bench/rules-bench`).
        .executableTarget(name: "gateway-bench-rules", dependencies: ["GatewayRules"]),

        /// Document extraction benchmark (`bench/documents-bench`): MB/s and pages/s per format, time to decide.
        .executableTarget(name: "gateway-bench-documents", dependencies: ["GatewayDocuments", "GatewayRules"]),

        /// Report benchmark (`bench/report-bench`): a million records, the index built once, reports from it.
        .executableTarget(name: "gateway-bench-report", dependencies: ["GatewayAudit", "GatewayReports", "GatewayConfig"]),

        /// Decision-log benchmark (`bench/audit-bench`): record building, sealing and group commit.
        .executableTarget(name: "gateway-bench-audit", dependencies: ["GatewayAudit"]),

        /// TLS handshake and bulk benchmark (`bench/tls-bench`).
        .executableTarget(
            name: "gateway-bench-tls",
            dependencies: [
                "GatewayTLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),

        // MARK: Tests
        .testTarget(
            name: "GatewayTLSTests",
            dependencies: [
                "GatewayTLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ]
        ),
        /// Small writers of PDF, Office, ZIP and e-mail files, so tests generate their documents at test time.
        .target(name: "DocumentFixtures", dependencies: ["CZlib"], path: "Tests/DocumentFixtures"),
        .testTarget(name: "GatewayDocumentsTests", dependencies: ["GatewayDocuments", "DocumentFixtures"]),
        .testTarget(
            name: "GatewayRulesTests", dependencies: ["GatewayRules", "GatewayDocuments", "DocumentFixtures"],
            // Labelled samples read by path (`RealWorldDetectionTests`), with their sources and build script.
            exclude: ["RealWorld"]
        ),
        .testTarget(name: "GatewayConfigTests", dependencies: ["GatewayConfig"]),
        .testTarget(name: "GatewayAccessTests", dependencies: ["GatewayAccess"]),
        .testTarget(name: "GatewayAuditTests", dependencies: ["GatewayAudit", "GatewayCrypto"]),
        .testTarget(name: "GatewayReportsTests", dependencies: ["GatewayReports", "GatewayAudit", "GatewayConfig"]),
        .testTarget(
            name: "GatewayCoreTests",
            dependencies: [
                "GatewayCore", "GatewayTLS", "GatewayAccess", "GatewayConfig", "GatewayRules", "GatewayAudit",
                "GatewayReports",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
