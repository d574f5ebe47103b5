/// Reads and validates a policy document. Cross-checks need the configuration: provider names must exist, and a
/// role's body limit above the global one is pointless.
struct PolicyDecoder {
    let document: YAMLDocument
    let file: ConfiguredPath
    /// The configured provider names; nil when the configuration's providers could not be read, in which case
    /// provider references are not cross-checked (the configuration's own problems say why).
    let providerNames: Set<String>?
    let globalMaxBodyBytes: Int

    func decode() -> RolePolicy? {
        guard let root = document.rootMapping() else { return nil }
        let roles = decodeRoles(root)
        let identities = root.section("identities") { identities in
            decodeCertificateIdentities(identities, roleNames: roles.map { Set($0.keys) })
        }
        let review = root.section("review") { decodeReview($0, roleNames: roles.map { Set($0.keys) }) }
        let prices = root.section("prices") { decodePrices($0) }
        root.finish()
        guard let roles else { return nil }
        return RolePolicy(
            file: file, roles: roles, certificateIdentities: identities, review: review, prices: prices)
    }

    private func decodeRoles(_ root: YAMLMapping) -> [String: RoleDefinition]? {
        guard let rolesValue = root.value("roles") else {
            root.missing("roles", "define at least one role, e.g. engineer")
            return nil
        }
        guard let rolesMapping = rolesValue.mapping() else { return nil }
        let entries = rolesMapping.allEntries()
        if entries.isEmpty { rolesValue.problem("define at least one role") }
        var roles: [String: RoleDefinition] = [:]
        for (name, value) in entries {
            if !Self.isRoleName(name) {
                value.problem("role names may contain only letters, digits, '.', '_' and '-'")
            }
            guard let mapping = value.mapping() else { continue }
            if let role = decodeRole(named: name, mapping) { roles[name] = role }
            mapping.finish()
        }
        return roles
    }

    private func decodeRole(named name: String, _ role: YAMLMapping) -> RoleDefinition? {
        let providers = decodeProviders(role)
        let paths = decodeGlobs(role, "paths", required: false, mustBePaths: true)
        let models = decodeGlobs(role, "models", required: true, mustBePaths: false)
        let categories = role.section("categories") { decodeCategories($0) }
        // `binary_uploads` is the name this setting had before documents were read; both are accepted.
        let binaryUploads = role.value("uninspected_uploads") != nil
            ? role.bool("uninspected_uploads", default: false) : role.bool("binary_uploads", default: false)
        let readImages = role.bool("ocr", default: false)
        let maxBodyBytes = role.optionalInt("max_body_bytes", in: 1...Int.max)
        if let maxBodyBytes, maxBodyBytes > globalMaxBodyBytes {
            role.value("max_body_bytes")?.warning(
                "\(maxBodyBytes) is above limits.max_body_bytes (\(globalMaxBodyBytes)), which still applies")
        }
        let rateLimit = role.value("rate_limit").flatMap { value -> RateLimit? in
            guard let mapping = value.mapping() else { return nil }
            defer { mapping.finish() }
            let burst = mapping.optionalInt("burst", in: 1...1_000_000)
            guard let perMinute = mapping.value("requests_per_minute") else {
                mapping.missing("requests_per_minute")
                return nil
            }
            guard let requestsPerMinute = perMinute.int(in: 1...1_000_000) else { return nil }
            return RateLimit(requestsPerMinute: requestsPerMinute, burst: burst)
        }
        guard let providers, let paths, let models else { return nil }
        return RoleDefinition(
            name: name, providers: providers, paths: paths, models: models, categoryActions: categories,
            binaryUploads: binaryUploads, maxBodyBytes: maxBodyBytes, rateLimit: rateLimit, readImages: readImages)
    }

    private func decodeProviders(_ role: YAMLMapping) -> ProviderSelection? {
        guard let value = role.value("providers") else {
            role.missing("providers", "list provider names or write \"*\"")
            return nil
        }
        if case .scalar = value.node, value.string() == "*" { return .all }
        guard let elements = value.sequence() else { return nil }
        var names: [String] = []
        for element in elements {
            guard let name = element.string() else { continue }
            if name == "*" {
                element.problem("\"*\" must stand alone: write providers: \"*\"")
            } else if let providerNames, !providerNames.contains(name) {
                let known = providerNames.sorted().joined(separator: ", ")
                element.problem("unknown provider '\(name)' (configured providers: \(known))")
            } else {
                names.append(name)
            }
        }
        if elements.isEmpty { value.warning("an empty list allows no provider") }
        return .named(names)
    }

    private func decodeGlobs(_ role: YAMLMapping, _ key: String, required: Bool, mustBePaths: Bool) -> [GlobPattern]? {
        guard let value = role.value(key) else {
            if required {
                role.missing(key, "list globs or write \"*\"")
                return nil
            }
            return [try! GlobPattern("*")]
        }
        let elements: [YAMLValue]
        if case .scalar = value.node { elements = [value] } else { elements = value.sequence() ?? [] }
        var globs: [GlobPattern] = []
        var valid = true
        for element in elements {
            guard let text = element.string() else {
                valid = false
                continue
            }
            if mustBePaths, text != "*", !text.hasPrefix("/"), !text.hasPrefix("*") {
                element.problem("path globs start with '/' (or are \"*\")")
                valid = false
                continue
            }
            do {
                globs.append(try GlobPattern(text))
            } catch {
                element.problem("invalid glob '\(text)': \(error)")
                valid = false
            }
        }
        if elements.isEmpty, case .sequence = value.node {
            value.warning("an empty list allows nothing")
        }
        return valid ? globs : nil
    }

    private func decodeCategories(_ categories: YAMLMapping) -> [String: RoleCategoryAction] {
        var actions: [String: RoleCategoryAction] = [:]
        for (category, value) in categories.allEntries() {
            guard Self.isCategoryName(category) else {
                value.problem("category names are lower-case letters, digits, '_' and '-' (e.g. pii, pci, secret)")
                continue
            }
            guard let action = value.choice(RoleCategoryAction.self) else { continue }
            if category == RoleDefinition.secretCategory, action != .block {
                value.warning("this role lets secrets (\(action.rawValue)) reach the vendor")
            }
            actions[category] = action
        }
        return actions
    }

    private func decodeCertificateIdentities(_ identities: YAMLMapping, roleNames: Set<String>?) -> [CertificateIdentityRule] {
        guard let list = identities.value("certificates")?.sequence() else { return [] }
        return list.compactMap { element -> CertificateIdentityRule? in
            guard let rule = element.mapping() else { return nil }
            defer { rule.finish() }
            let subject = rule.value("subject")
            let san = rule.value("san")
            let user = rule.optionalString("user")
            let role = rule.requiredString("role")
            if let role, let roleNames, !roleNames.contains(role) {
                rule.value("role")?.problem("unknown role '\(role)' (defined roles: \(roleNames.sorted().joined(separator: ", ")))")
            }
            let match: CertificateIdentityRule.Match?
            switch (subject, san) {
            case (let subject?, nil): match = glob(subject).map { .subject($0) }
            case (nil, let san?): match = glob(san).map { .subjectAlternativeName($0) }
            case (nil, nil):
                element.problem("set one of 'subject' or 'san' to match the certificate against")
                match = nil
            case (_?, _?):
                element.problem("set only one of 'subject' or 'san'")
                match = nil
            }
            guard let match, let role else { return nil }
            return CertificateIdentityRule(match: match, user: user, role: role)
        }
    }

    private func glob(_ value: YAMLValue) -> GlobPattern? {
        guard let text = value.string() else { return nil }
        do {
            return try GlobPattern(text)
        } catch {
            value.problem("invalid glob '\(text)': \(error)")
            return nil
        }
    }

    static func isRoleName(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0)) }
    }

    static func isCategoryName(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" }
    }
}
