/// Reads `providers:` and checks what only the whole list can show: duplicate names and path prefixes that
/// overlap between providers (which would make routing depend on file order).
struct ProviderDecoder {
    let document: YAMLDocument
    let baseDirectory: String
    let limits: LimitSettings

    /// What could be read of one provider plus where its pieces are. Cross-provider checks use the name and
    /// prefixes even when something else about the provider is wrong, so a duplicate is reported in the same pass.
    private struct Located {
        let settings: ProviderSettings?
        let name: String?
        let routeHeader: String?
        /// The valid prefixes with their positions in `paths`.
        let prefixes: [(index: Int, prefix: String)]
        let path: ConfigKeyPath
        let nameLine: Int?
        let pathLines: [Int?]
    }

    /// The providers, or nil when the list is missing or malformed (problems collected either way).
    func decode(_ root: YAMLMapping) -> [ProviderSettings]? {
        guard let value = root.value("providers") else {
            root.missing("providers", "configure at least one upstream, e.g. openai")
            return nil
        }
        guard let elements = value.sequence() else { return nil }
        if elements.isEmpty { value.problem("configure at least one provider") }
        let located = elements.compactMap(decodeProvider)
        checkUniqueNames(located)
        checkDisjointPrefixes(located)
        let valid = located.compactMap(\.settings)
        return valid.count == elements.count ? valid : nil
    }

    private func decodeProvider(_ element: YAMLValue) -> Located? {
        guard let provider = element.mapping() else { return nil }
        defer { provider.finish() }
        let name = provider.requiredString("name")
        if let name, !PolicyDecoder.isRoleName(name) {
            provider.problem(at: "name", "provider names may contain only letters, digits, '.', '_' and '-'")
        }
        let allowInsecureHTTP = provider.bool("allow_insecure_http", default: false)
        let baseURL = decodeBaseURL(provider, allowInsecureHTTP: allowInsecureHTTP)
        let (prefixes, acceptedPrefixes, prefixLines) = decodePathPrefixes(provider)
        let credential = decodeCredential(provider)
        let caFile = provider.value("ca_file") != nil
            ? ConfigurationDecoder(document: document, baseDirectory: baseDirectory)
                .path(provider, "ca_file", default: "", mustExist: .file)
            : nil
        let apiShape = provider.optionalChoice("api_shape", ProviderAPIShape.self)
        let pool = provider.section("pool") { pool in
            ConnectionPoolSettings(
                maxConnections: pool.int("max_connections", default: ConnectionPoolSettings.defaultMaxConnections, in: 1...10_000),
                idleTimeoutSeconds: pool.int(
                    "idle_timeout_seconds", default: ConnectionPoolSettings.defaultIdleTimeoutSeconds, in: 1...86_400))
        }
        let timeouts = provider.section("timeouts") { timeouts in
            UpstreamTimeouts(
                connectSeconds: timeouts.int("connect_seconds", default: UpstreamTimeouts.defaultConnectSeconds, in: 1...3_600),
                tlsSeconds: timeouts.int("tls_seconds", default: UpstreamTimeouts.defaultTLSSeconds, in: 1...3_600),
                firstByteSeconds: timeouts.int("first_byte_seconds", default: limits.upstreamTimeoutSeconds, in: 1...86_400),
                idleSeconds: timeouts.int("idle_seconds", default: UpstreamTimeouts.defaultIdleSeconds, in: 1...86_400))
        }
        let forwardHeaders = decodeForwardHeaders(provider)
        let routeHeader = provider.optionalString("route_header")
        if let routeHeader, !HTTPFieldSyntax.isToken(routeHeader) {
            provider.problem(at: "route_header", "'\(routeHeader)' is not a header field name")
        }
        var settings: ProviderSettings?
        if let name, let baseURL, let prefixes, let credential {
            settings = ProviderSettings(
                name: name, baseURL: baseURL, pathPrefixes: prefixes, credential: credential, caFile: caFile,
                apiShape: apiShape ?? .inferred(name: name, pathPrefixes: prefixes), pool: pool, timeouts: timeouts,
                allowInsecureHTTP: allowInsecureHTTP, forwardHeaders: forwardHeaders, routeHeader: routeHeader)
        }
        return Located(
            settings: settings, name: name, routeHeader: routeHeader, prefixes: acceptedPrefixes, path: element.path,
            nameLine: provider.value("name")?.line, pathLines: prefixLines)
    }

    private func decodeBaseURL(_ provider: YAMLMapping, allowInsecureHTTP: Bool) -> UpstreamURL? {
        guard let text = provider.requiredString("base_url", "e.g. https://api.openai.com") else { return nil }
        switch UpstreamURL.parse(text, allowInsecureHTTP: allowInsecureHTTP) {
        case .success(let url): return url
        case .failure(let failure):
            // A URL with user info may hold a password: describe it without quoting it.
            let quoted = if case .userInfo = failure { "the URL" } else { "'\(text)'" }
            provider.problem(at: "base_url", "\(quoted) \(failure.message)")
            return nil
        }
    }

    /// The prefixes (nil when any is invalid), the valid ones regardless, and each element's line.
    /// `forward_headers`: nil (the API shape's defaults) when absent.
    private func decodeForwardHeaders(_ provider: YAMLMapping) -> HeaderAllowList? {
        guard let value = provider.value("forward_headers") else { return nil }
        guard let elements = value.sequence() else { return nil }
        var patterns: [String] = []
        for element in elements {
            guard let pattern = element.string() else { continue }
            if let complaint = HeaderAllowList.complaint(about: pattern) {
                element.problem("'\(pattern)' \(complaint)")
            } else {
                patterns.append(pattern)
            }
        }
        return HeaderAllowList(patterns)
    }

    private func decodePathPrefixes(_ provider: YAMLMapping) -> ([String]?, [(index: Int, prefix: String)], [Int?]) {
        guard let value = provider.value("paths") else {
            provider.missing("paths", "list the request path prefixes routed here, e.g. [/v1/chat/completions]")
            return (nil, [], [])
        }
        let elements: [YAMLValue] = if case .scalar = value.node { [value] } else { value.sequence() ?? [] }
        if elements.isEmpty { value.problem("list at least one path prefix") }
        var prefixes: [String] = []
        var accepted: [(index: Int, prefix: String)] = []
        var valid = !elements.isEmpty
        for (index, element) in elements.enumerated() {
            guard let prefix = element.string() else {
                valid = false
                continue
            }
            if let complaint = Self.complaint(aboutPrefix: prefix) {
                element.problem("'\(prefix)' \(complaint)")
                valid = false
            } else if prefixes.contains(prefix) {
                element.problem("'\(prefix)' is listed twice")
                valid = false
            } else {
                prefixes.append(prefix)
                accepted.append((index, prefix))
            }
        }
        return (valid ? prefixes : nil, accepted, elements.map(\.line))
    }

    static func complaint(aboutPrefix prefix: String) -> String? {
        if !prefix.hasPrefix("/") { return "must start with '/'" }
        if prefix.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F || !$0.isASCII }) {
            return "must not contain spaces, control or non-ASCII characters"
        }
        if prefix.contains(where: { "?#*".contains($0) }) { return "is a plain prefix: no '?', '#' or '*'" }
        if prefix.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }) {
            return "must not contain '.' or '..' segments"
        }
        return nil
    }

    private func decodeCredential(_ provider: YAMLMapping) -> ProviderCredential? {
        guard let value = provider.value("credential") else {
            provider.missing("credential", "e.g. {header: Authorization, value: \"Bearer ${OPENAI_API_KEY}\"}")
            return nil
        }
        guard let credential = value.mapping() else { return nil }
        defer { credential.finish() }
        let header = credential.requiredString("header", "e.g. Authorization or x-api-key")
        var headerValid = header != nil
        if let header {
            if !HTTPFieldSyntax.isToken(header) {
                credential.problem(at: "header", "'\(header)' is not a valid HTTP header name")
                headerValid = false
            } else if HTTPFieldSyntax.reservedNames.contains(header.lowercased()) {
                credential.problem(at: "header", "'\(header)' is managed by the gateway and cannot carry a credential")
                headerValid = false
            }
        }
        guard let secretValue = credential.value("value") else {
            credential.missing("value", "e.g. \"Bearer ${OPENAI_API_KEY}\"")
            return nil
        }
        guard let text = secretValue.string() else { return nil }
        // The value is a secret: messages describe it, never quote it.
        if !HTTPFieldSyntax.isValidValue(text) {
            secretValue.problem("contains CR, LF or another control character, which would corrupt the request head")
            return nil
        }
        let withoutScheme = text.trimmingBlanks().lowercased()
        if withoutScheme.isEmpty || withoutScheme == "bearer" {
            let variables = Self.referencedVariables(in: secretValue)
            let hint = variables.isEmpty ? "" : " (\(variables.joined(separator: ", ")) not set?)"
            secretValue.warning("the credential is empty\(hint): the vendor will refuse every request")
        }
        guard let header, headerValid else { return nil }
        return ProviderCredential(header: header, value: text)
    }

    /// Names of `${NAME…}` references in the raw scalar, for a warning that says which variable to set.
    private static func referencedVariables(in value: YAMLValue) -> [String] {
        guard case .scalar(let scalar) = value.node else { return [] }
        return scalar.string.split(separator: "${", omittingEmptySubsequences: false).dropFirst().compactMap { reference in
            let name = reference.prefix { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
            return name.isEmpty ? nil : String(name)
        }
    }

    private func checkUniqueNames(_ providers: [Located]) {
        var firstByName: [String: Located] = [:]
        for provider in providers {
            guard let name = provider.name else { continue }
            if let first = firstByName[name] {
                document.diagnostics.problem(
                    document.file, provider.path.appending(key: "name"),
                    "duplicate provider name '\(name)' (also \(first.path))", line: provider.nameLine)
            } else {
                firstByName[name] = provider
            }
        }
    }

    private func checkDisjointPrefixes(_ providers: [Located]) {
        for (laterIndex, later) in providers.enumerated() {
            for earlier in providers[..<laterIndex] {
                // A path shared by a provider with a route header and one without is routed by that header.
                if (earlier.routeHeader == nil) != (later.routeHeader == nil) { continue }
                for (prefixIndex, prefix) in later.prefixes {
                    guard let other = earlier.prefixes.first(where: { RoutePrefix.overlap($0.prefix, prefix) })?.prefix else {
                        continue
                    }
                    let relation = other == prefix ? "is also routed to" : "overlaps '\(other)' of"
                    document.diagnostics.problem(
                        document.file, later.path.appending(key: "paths").appending(index: prefixIndex),
                        "'\(prefix)' \(relation) provider '\(earlier.name ?? "?")' (\(earlier.path)): each path must have one provider",
                        line: later.pathLines.indices.contains(prefixIndex) ? later.pathLines[prefixIndex] : nil)
                }
            }
        }
    }
}

extension String {
    fileprivate func trimmingBlanks() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
