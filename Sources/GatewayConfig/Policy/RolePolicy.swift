/// The validated role policy (the file named by `policy.file`): roles and certificate identities.
public struct RolePolicy: Sendable, Hashable {
    /// The policy file, as configured.
    public let file: ConfiguredPath
    /// `roles`, required, non-empty, keyed by role name.
    public let roles: [String: RoleDefinition]
    /// `identities.certificates`, default none, in file order.
    public let certificateIdentities: [CertificateIdentityRule]
    /// `review`, default off: escalation to people, sampling, targets, drift.
    public let review: ReviewPolicy
    /// `prices`, default none: token prices, for spend in reports.
    public let prices: PriceTable

    public init(
        file: ConfiguredPath, roles: [String: RoleDefinition], certificateIdentities: [CertificateIdentityRule],
        review: ReviewPolicy = ReviewPolicy(), prices: PriceTable = PriceTable()
    ) {
        self.file = file
        self.roles = roles
        self.certificateIdentities = certificateIdentities
        self.review = review
        self.prices = prices
    }

    /// The role, or nil for an unknown role (which callers must refuse: deny by default).
    public func role(named name: String) -> RoleDefinition? { roles[name] }

    /// The user and role of a verified client certificate, by the first matching rule; nil when none matches.
    public func identity(
        forCertificateSubject subject: String, subjectAlternativeNames: [String]
    ) -> (user: String, role: RoleDefinition)? {
        for rule in certificateIdentities {
            if let user = rule.user(forSubject: subject, subjectAlternativeNames: subjectAlternativeNames),
                let role = roles[rule.role]
            {
                return (user, role)
            }
        }
        return nil
    }
}
