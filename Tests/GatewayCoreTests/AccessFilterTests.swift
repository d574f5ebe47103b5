import Foundation
import GatewayAccess
import GatewayConfig
@testable import GatewayRules
import GatewayTLS
import NIOCore
import NIOHTTP1
import Testing

@testable import GatewayCore

/// The authenticate and route phases, and the role's effect on classification, without a network.
@Suite("Access: keys, roles, rate limits, mTLS")
struct AccessFilterTests {
    static let rulesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("rules").path

    static func glob(_ text: String) -> GlobPattern { try! GlobPattern(text) }

    static let roles: [String: RoleDefinition] = [
        "engineer": RoleDefinition(name: "engineer", providers: .all, paths: [glob("*")], models: [glob("*")]),
        "analyst": RoleDefinition(
            name: "analyst", providers: .named(["openai"]), paths: [glob("*")], models: [glob("gpt-4o*")],
            rateLimit: RateLimit(requestsPerMinute: 60, burst: 10)
        ),
        "support": RoleDefinition(
            name: "support", providers: .all, paths: [glob("*")], models: [glob("*")], categoryActions: ["pii": .allow]
        ),
    ]

    struct Fixture {
        let filter: AccessFilter
        let keys: [String: GatewayKey]
        let path: String
    }

    static func fixture(mode: AuthenticationMode = .key) throws -> Fixture {
        let path = NSTemporaryDirectory() + "access-\(UUID().uuidString)/keys.json"
        var file = KeyFile()
        var keys: [String: GatewayKey] = [:]
        for role in ["engineer", "analyst", "support", "ghost"] {
            let key = GatewayKey.generate()
            keys[role] = key
            file.keys.append(KeyRecord(id: key.id, user: "\(role)-user", role: role, digest: key.digest, created: Date(), expires: nil))
        }
        try file.save(path: path)
        let policy = RolePolicy(
            file: ConfiguredPath(written: "policy.yaml", relativeTo: "/"), roles: roles,
            certificateIdentities: [
                CertificateIdentityRule(match: .subjectAlternativeName(glob("*@engineering.example.com")), user: nil, role: "engineer")
            ]
        )
        let filter = AccessFilter(
            keys: try KeyStore(path: path), policy: policy, mode: mode, limiter: RateLimiter()
        )
        return Fixture(filter: filter, keys: keys, path: path)
    }

    static func provider(_ name: String) -> ProviderSettings {
        ProviderSettings(
            name: name, baseURL: UpstreamURL(scheme: "https", host: "\(name).example", port: 443, basePath: ""),
            pathPrefixes: name == "anthropic" ? ["/v1/messages"] : ["/v1/chat/completions"],
            credential: ProviderCredential(header: "x-api-key", value: "vendor"),
            apiShape: name == "anthropic" ? .anthropic : .openai, timeouts: UpstreamTimeouts(firstByteSeconds: 60)
        )
    }

    static func request(key: String?, header: String = "authorization") -> HTTPRequestHead {
        var headers = HTTPHeaders()
        if let key { headers.add(name: header, value: header == "authorization" ? "Bearer \(key)" : key) }
        return HTTPRequestHead(version: .http1_1, method: .POST, uri: "/v1/chat/completions", headers: headers)
    }

    static func context(tls: TLSHandshakeDetails? = nil) -> RequestContext {
        RequestContext(requestID: "req_test", method: "POST", target: "/v1/chat/completions", clientAddress: nil, tls: tls)
    }

    /// Runs authenticate and route; returns the refusal, if any.
    static func admit(
        _ fixture: Fixture, key: String?, provider: String = "openai", context initial: RequestContext? = nil
    ) async -> (GatewayError?, RequestContext) {
        var context = initial ?? Self.context()
        context.provider = Self.provider(provider)
        do {
            try fixture.filter.authenticate(Self.request(key: key), context: &context)
            try fixture.filter.route(Self.request(key: key), context: &context)
            return (nil, context)
        } catch {
            return (error, context)
        }
    }

    @Test func everyKeyRefusalIs401WithAnInstruction() async throws {
        let fixture = try Self.fixture()
        for presented in [nil, "gwk_short", GatewayKey.generate().text] {
            let (error, _) = await Self.admit(fixture, key: presented)
            #expect(error?.kind == .unauthorized)
            #expect(error?.status == .unauthorized)
            #expect(error?.message.contains("gateway key") == true)
        }
        // Revoked while running: refused once the store reloads (the server polls it every 250 ms).
        var file = try KeyFile.load(path: fixture.path)
        file.keys[0].revoked = Date()
        try file.save(path: fixture.path)
        try fixture.filter.keys.reloadIfChanged()
        let (error, _) = await Self.admit(fixture, key: fixture.keys["engineer"]!.text)
        #expect(error?.message.contains("revoked") == true)
    }

    @Test func anthropicKeyHeaderAuthenticatesToo() async throws {
        let fixture = try Self.fixture()
        var context = Self.context()
        context.provider = Self.provider("anthropic")
        try fixture.filter.authenticate(
            Self.request(key: fixture.keys["support"]!.text, header: "x-api-key"), context: &context
        )
        #expect(context.identity?.user == "support-user")
        #expect(context.identity?.keyID == fixture.keys["support"]!.id)
    }

    @Test func roleWithoutAnthropicGets403OnMessages() async throws {
        let fixture = try Self.fixture()
        let (refused, _) = await Self.admit(fixture, key: fixture.keys["analyst"]!.text, provider: "anthropic")
        #expect(refused?.status == .forbidden)
        let (allowed, _) = await Self.admit(fixture, key: fixture.keys["engineer"]!.text, provider: "anthropic")
        #expect(allowed == nil)
    }

    @Test func unknownRoleIsRefused() async throws {
        let fixture = try Self.fixture()
        let (error, _) = await Self.admit(fixture, key: fixture.keys["ghost"]!.text)
        #expect(error?.status == .forbidden)
        #expect(error?.message.contains("not defined") == true)
    }

    static let inspector = BodyInspector(
        rules: try! RuleLoader.load(directory: rulesDirectory), fingerprintKey: Array(repeating: 7, count: 32),
        fieldNames: ["model"]
    )

    /// The body through inspection (which reads the model) and then the role's model check; the refusal, if any.
    static func modelCheck(
        _ fixture: Fixture, role: String, body: [UInt8], encoding: String? = nil
    ) async -> (GatewayError?, RequestContext) {
        var (_, context) = await Self.admit(fixture, key: fixture.keys[role]!.text)
        let classification = ClassificationFilter(
            inspector: Self.inspector, deadlineMilliseconds: 1000, policyForRequest: { _ in .default }
        )
        var request = RequestBody(bytes: ByteBuffer(bytes: body), contentType: "application/json", contentEncoding: encoding)
        context.requestBytes = body.count
        var head = Self.request(key: nil)
        do throws(GatewayError) {
            try classification.inspectBody(&request, context: &context)
            try fixture.filter.upstreamRequest(&head, context: &context)
            return (nil, context)
        } catch {
            return (error, context)
        }
    }

    @Test func modelOutsideTheGlobGets403() async throws {
        let fixture = try Self.fixture()
        let (allowed, context) = await Self.modelCheck(
            fixture, role: "analyst", body: Array(#"{"messages":[{"content":"x","model":"o1"}],"model":"gpt-4o-mini"}"#.utf8)
        )
        #expect(allowed == nil)
        #expect(context.model == "gpt-4o-mini")
        let (refused, _) = await Self.modelCheck(fixture, role: "analyst", body: Array(#"{"model":"o1-preview","messages":[]}"#.utf8))
        #expect(refused?.status == .forbidden)
        let (missing, _) = await Self.modelCheck(fixture, role: "analyst", body: Array(#"{"messages":[]}"#.utf8))
        #expect(missing?.status == .forbidden)
    }

    /// Issue 12, defect 1: the gateway read the first `model` and vendors the last; an escaped name was not
    /// recognised at all. Now there is one reading: duplicates (after unescaping) are refused, an escaped name is the
    /// name, also inside a gzip body.
    @Test func duplicateOrEscapedModelNamesCannotBypassTheAllowList() async throws {
        let fixture = try Self.fixture()
        let duplicate = #"{"model":"gpt-4o-mini","model":"o1","messages":[]}"#
        let (twice, _) = await Self.modelCheck(fixture, role: "analyst", body: Array(duplicate.utf8))
        #expect(twice?.status == .badRequest)
        #expect(twice?.message.contains("duplicate member name \"model\"") == true)
        let escaped = #"{"model":"gpt-4o-mini","mod\u0065l":"o1","messages":[]}"#
        let (escapedTwice, _) = await Self.modelCheck(fixture, role: "analyst", body: Array(escaped.utf8))
        #expect(escapedTwice?.status == .badRequest)
        let (gzipped, _) = await Self.modelCheck(
            fixture, role: "analyst", body: Gzip.compress(Array(escaped.utf8)), encoding: "gzip"
        )
        #expect(gzipped?.status == .badRequest)
        // An escaped name alone is read as the name it spells, and the role's glob applies to its value.
        let (alone, context) = await Self.modelCheck(fixture, role: "analyst", body: Array(#"{"mod\u0065l":"o\u0031","messages":[]}"#.utf8))
        #expect(alone?.status == .forbidden)
        #expect(context.model == "o1")
    }

    @Test func roleCategoryOverrideChangesTheDecision() async throws {
        let inspector = BodyInspector(rules: try RuleLoader.load(directory: Self.rulesDirectory), fingerprintKey: Array(repeating: 7, count: 32))
        let body = #"{"model":"m","messages":[{"role":"user","content":"Write to dana.smith@acme-widgets.co.uk about the invoice"}]}"#
        func decide(_ role: String) async throws -> Decision? {
            let policy = Self.roles[role]!.categoryPolicy(base: .default)
            let filter = ClassificationFilter(inspector: inspector, deadlineMilliseconds: 1000, policyForRequest: { _ in policy })
            var context = Self.context()
            var request = RequestBody(bytes: ByteBuffer(string: body), contentType: "application/json")
            try filter.inspectBody(&request, context: &context)
            return context.decision
        }
        guard case .redact = try await decide("engineer")?.verdict else { Issue.record("engineer: expected redact"); return }
        guard case .allow = try await decide("support")?.verdict else { Issue.record("support: expected allow"); return }
        // Secrets stay blocked for a role that did not say otherwise.
        #expect(Self.roles["support"]!.categoryPolicy(base: .default).treatment(for: .secret).action == .block)
    }

    @Test func clientCertificateMapsToUserAndRole() async throws {
        let fixture = try Self.fixture(mode: .certificate)
        func details(_ sans: [String]) -> TLSHandshakeDetails {
            TLSHandshakeDetails(
                negotiatedProtocol: "http/1.1", protocolVersion: "TLSv1.3", cipherSuite: "TLS_AES_128_GCM_SHA256",
                serverName: "localhost",
                peer: PeerIdentity(subject: "CN=bob", commonName: "bob", subjectAlternativeNames: sans, sha256Fingerprint: "ab12"),
                resumed: false
            )
        }
        let (error, context) = await Self.admit(
            fixture, key: nil, context: Self.context(tls: details(["email:bob@engineering.example.com"]))
        )
        #expect(error == nil)
        #expect(context.identity == CallerIdentity(user: "bob@engineering.example.com", role: "engineer", certificateFingerprint: "ab12"))
        let (unmapped, _) = await Self.admit(fixture, key: nil, context: Self.context(tls: details(["email:eve@elsewhere.example"])))
        #expect(unmapped?.status == .forbidden)
        let (missing, _) = await Self.admit(fixture, key: nil)
        #expect(missing?.status == .unauthorized)
    }

    @Test func rateLimitUnderConcurrentLoad() async throws {
        let fixture = try Self.fixture()
        let key = fixture.keys["analyst"]!.text
        let outcomes = await withTaskGroup(of: GatewayError?.self) { group in
            for _ in 0..<200 { group.addTask { await Self.admit(fixture, key: key).0 } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let allowed = outcomes.filter { $0 == nil }.count
        let limited = outcomes.compactMap { $0 }.filter { $0.kind == .rateLimited }
        // burst 10, 1 token per second: the run takes well under a second, so 10 (or 11 at a refill) pass.
        #expect((10...11).contains(allowed))
        #expect(limited.count == 200 - allowed)  // every excess request refused with 429, nothing else
        #expect(limited.allSatisfy { $0.status == .tooManyRequests && ($0.retryAfterSeconds ?? 0) >= 1 })
        // Another key is unaffected.
        #expect(await Self.admit(fixture, key: fixture.keys["engineer"]!.text).0 == nil)
    }
}
