// swift-tools-version:6.0
// libFuzzer targets for the gateway. Build only through `fuzz/run` (or with the flags it uses):
//   swift build -c release --scratch-path ../.build-fuzz -j 1 --sanitize fuzzer -Xswiftc -parse-as-library
// (SwiftPM's own `--sanitize fuzzer`, not `-Xswiftc -sanitize=fuzzer`: with the latter SwiftPM still links the
// executable with `--defsym main=<target>_main`, which `-parse-as-library` never defines, and the link fails.)
// Every executable here defines LLVMFuzzerTestOneInput; libFuzzer supplies `main`.
import PackageDescription

let package = Package(
    name: "ai-gateway-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "ai-gateway", path: ".."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        /// Shared helpers: locating the repository's rules, policies, invariant failures.
        .target(name: "FuzzSupport", dependencies: [.product(name: "GatewayRules", package: "ai-gateway")]),

        /// Request bodies through BodyInspector, one content type each.
        .executableTarget(name: "fuzz-json", dependencies: ["FuzzSupport", .product(name: "GatewayRules", package: "ai-gateway")]),
        .executableTarget(name: "fuzz-text", dependencies: ["FuzzSupport", .product(name: "GatewayRules", package: "ai-gateway")]),
        .executableTarget(name: "fuzz-multipart", dependencies: ["FuzzSupport", .product(name: "GatewayRules", package: "ai-gateway")]),

        /// Rule files through RuleLoader.
        .executableTarget(name: "fuzz-rules", dependencies: ["FuzzSupport", .product(name: "GatewayRules", package: "ai-gateway")]),

        /// Decision-log segments and HEAD through AuditVerifier and AuditReader (plus a seed-generation mode).
        .executableTarget(
            name: "fuzz-verify",
            dependencies: [
                .product(name: "GatewayAudit", package: "ai-gateway"),
                .product(name: "GatewayCrypto", package: "ai-gateway"),
            ]
        ),

        /// HTTP/1.1 request heads through NIO's HTTPRequestDecoder, then (once it exists) RequestHeadChecks.
        .executableTarget(
            name: "fuzz-http-head",
            dependencies: [
                .product(name: "GatewayCore", package: "ai-gateway"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),

        /// gateway.yaml text through ConfigLoader (bonus target).
        .executableTarget(name: "fuzz-config", dependencies: ["FuzzSupport", .product(name: "GatewayConfig", package: "ai-gateway")]),

        /// Uploaded documents (PDF, ZIP / Office Open XML, e-mail, HTML, RTF) through DocumentExtractor, and the
        /// transfer decodings (base64, quoted-printable).
        .executableTarget(
            name: "DocumentExtractorFuzzer",
            dependencies: [.product(name: "GatewayDocuments", package: "ai-gateway")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
