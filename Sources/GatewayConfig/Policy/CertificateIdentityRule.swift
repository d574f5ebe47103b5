/// Maps a verified client certificate to a user and role (`identities.certificates[]` in the policy file).
/// Exactly one of `subject` and `san` is set; rules are tried in file order and the first match wins.
public struct CertificateIdentityRule: Sendable, Hashable {
    /// What part of the certificate the glob is matched against.
    public enum Match: Sendable, Hashable {
        /// `subject`: the subject distinguished name in RFC 4514 form, e.g. `CN=alice,O=Example`.
        case subject(GlobPattern)
        /// `san`: any subject alternative name (DNS name, e-mail address or URI), e.g. `*@example.com`.
        case subjectAlternativeName(GlobPattern)
    }

    public let match: Match
    /// `user`, default the matched SAN, or the subject's `CN`, or the whole subject.
    public let user: String?
    /// `role`, required: a role defined in the same policy.
    public let role: String

    public init(match: Match, user: String?, role: String) {
        self.match = match
        self.user = user
        self.role = role
    }

    /// The user this certificate is, when the rule matches.
    public func user(forSubject subject: String, subjectAlternativeNames: [String]) -> String? {
        switch match {
        case .subject(let glob):
            guard glob.matches(subject) else { return nil }
            return user ?? Self.commonName(in: subject) ?? subject
        case .subjectAlternativeName(let glob):
            guard let name = subjectAlternativeNames.first(where: glob.matches) else { return nil }
            return user ?? name
        }
    }

    private static func commonName(in subject: String) -> String? {
        subject.split(separator: ",").lazy
            .map { $0.trimmingPrefix(" ") }
            .first { $0.uppercased().hasPrefix("CN=") }
            .map { String($0.dropFirst(3)) }
    }
}
