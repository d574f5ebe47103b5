import Foundation
import GatewayAccess
import GatewayConfig
import GatewayRules
import NIOHTTP1

/// Authentication and role-based access: who is calling (gateway key and/or client certificate), whether their role
/// may use this provider, path and model, and how fast. Deny by default: an unknown role, provider or model is
/// refused.
struct AccessFilter: GatewayFilter {
    let keys: KeyStore
    let policy: RolePolicy
    let mode: AuthenticationMode
    let limiter: RateLimiter

    // MARK: - Phase 1: authenticate

    func authenticate(_ head: HTTPRequestHead, context: inout RequestContext, state: inout Void) throws(GatewayError) {
        let presented = Self.presentedKey(head.headers)
        let certificate = context.tls?.peer
        let fromCertificate = certificate.flatMap {
            // The policy globs name values ("*@example.com"), so the "email:"/"DNS:" type prefixes come off.
            self.policy.identity(
                forCertificateSubject: $0.subject,
                subjectAlternativeNames: $0.subjectAlternativeNames.map { String($0.drop { $0 != ":" }.dropFirst()) }
            )
        }
        let useKey: Bool
        switch self.mode {
        case .key: useKey = true
        case .certificate: useKey = false
        case .keyOrCertificate: useKey = presented != nil || fromCertificate == nil
        case .keyAndCertificate:
            guard fromCertificate != nil || certificate != nil else {
                throw GatewayError(.unauthorized, "This gateway requires a client certificate and a gateway key.")
            }
            useKey = true
        }
        if useKey {
            switch self.keys.authenticate(presented, remembering: &context.verifiedKey) {
            case .failure(let refusal):
                throw GatewayError(.unauthorized, refusal.message)
            case .success(let record):
                context.identity = CallerIdentity(
                    user: record.user, role: record.role, keyID: record.id,
                    certificateFingerprint: certificate?.sha256Fingerprint
                )
            }
        } else {
            guard let certificate else {
                throw GatewayError(.unauthorized, "This gateway requires a client certificate (mTLS); none was presented.")
            }
            guard let (user, role) = fromCertificate else {
                throw GatewayError(
                    .forbidden,
                    "The client certificate \(certificate.subject) is valid but maps to no role in the policy."
                )
            }
            context.identity = CallerIdentity(
                user: user, role: role.name, certificateFingerprint: certificate.sha256Fingerprint
            )
        }
    }

    /// `Authorization: Bearer …` (OpenAI SDKs) or `x-api-key` (Anthropic SDKs).
    static func presentedKey(_ headers: HTTPHeaders) -> String? {
        if let authorization = headers.first(name: "authorization") {
            let parts = authorization.utf8.split(separator: UInt8(ascii: " "), maxSplits: 1)
            if parts.count == 2, parts[0].count == 6, String(decoding: parts[0], as: UTF8.self).lowercased() == "bearer" {
                return HeaderHygiene.trimmed(parts[1])
            }
        }
        return headers.first(name: "x-api-key").map { HeaderHygiene.trimmed($0.utf8[...]) }
    }

    private func applyRateLimit(context: RequestContext) throws(GatewayError) {
        guard let identity = context.identity, let limit = self.policy.role(named: identity.role)?.rateLimit else { return }
        let caller = identity.keyID ?? identity.certificateFingerprint ?? identity.user
        if let wait = self.limiter.take(caller: caller, requestsPerMinute: limit.requestsPerMinute, burst: limit.burst) {
            throw GatewayError(
                .rateLimited,
                "Rate limit of \(limit.requestsPerMinute) requests per minute for role \(identity.role) reached; retry in \(wait) s.",
                retryAfterSeconds: wait
            )
        }
    }

    // MARK: - Phase 2: route

    func route(_ head: HTTPRequestHead, context: inout RequestContext, state: inout Void) throws(GatewayError) {
        let role = try self.role(of: context)
        guard let provider = context.provider else { return }
        guard role.allows(provider: provider.name) else {
            throw GatewayError(
                .forbidden, "Role \(role.name) may not use \(provider.name). Ask your gateway administrator for access."
            )
        }
        let path = context.path
        guard role.allows(path: path) else {
            throw GatewayError(.forbidden, "Role \(role.name) may not call \(path).")
        }
        if let limit = role.maxBodyBytes { context.bodyLimit = min(context.bodyLimit ?? limit, limit) }
        // Counted only once the request is allowed: a refused request costs the caller no capacity.
        try self.applyRateLimit(context: context)
    }

    // MARK: - Phase 4: the model named in the body

    /// After inspection, so the model is the one the body's single reading found (`ClassificationFilter` sets
    /// `context.model` from the inspector's walk: escapes decoded, duplicate names refused), the same one the vendor
    /// will read.
    func upstreamRequest(
        _ head: inout HTTPRequestHead, context: inout RequestContext, state: inout Void
    ) throws(GatewayError) {
        let role = try self.role(of: context)
        if let model = context.model {
            guard role.allows(model: model) else {
                throw GatewayError(.forbidden, "Role \(role.name) may not use model \(model).")
            }
        } else if context.requestBytes > 0 && !role.allows(model: "*") {
            throw GatewayError(.forbidden, "Role \(role.name) is limited to some models; this request names none.")
        }
    }

    private func role(of context: RequestContext) throws(GatewayError) -> RoleDefinition {
        guard let identity = context.identity else {
            throw GatewayError(.unauthorized, KeyRefusal.missing.message)
        }
        guard let role = self.policy.role(named: identity.role) else {
            throw GatewayError(.forbidden, "Role \(identity.role) is not defined in the gateway policy.")
        }
        return role
    }
}

extension RoleDefinition {
    /// This role's treatment of each category: its explicit settings over the rule pack's defaults, with secrets
    /// blocked unless the role says otherwise explicitly.
    func categoryPolicy(base: CategoryPolicy) -> CategoryPolicy {
        var overrides: [GatewayRules.Category: CategoryTreatment] = [:]
        var categories = Set(self.categoryActions.keys)
        categories.insert(Self.secretCategory)
        for name in categories {
            let category = GatewayRules.Category(name)
            let baseTreatment = base.treatment(for: category)
            let action = self.action(forCategory: name, defaultAction: RoleCategoryAction(baseTreatment.action))
            let mapped = CategoryAction(action)
            overrides[category] = CategoryTreatment(mapped, style: mapped == .redact ? (baseTreatment.style ?? .placeholder) : nil)
        }
        var policy = base.overriding(overrides)
        policy.allowUninspected = self.binaryUploads
        policy.readImages = self.readImages
        return policy
    }
}

/// The policy file's actions and the rules' actions are one vocabulary in two targets (config cannot depend on the
/// rules): converted case by case, so a new case is a compile error here rather than a silent `.block`.
extension CategoryAction {
    init(_ action: RoleCategoryAction) {
        switch action {
        case .allow: self = .allow
        case .redact: self = .redact
        case .block: self = .block
        }
    }
}

extension RoleCategoryAction {
    init(_ action: CategoryAction) {
        switch action {
        case .allow: self = .allow
        case .redact: self = .redact
        case .block: self = .block
        }
    }
}
