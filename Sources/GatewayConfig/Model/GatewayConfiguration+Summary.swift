extension GatewayConfiguration {
    /// A few lines for `gatewayctl config check` and `gatewayd`'s start-up banner: listeners, providers and their
    /// routes, roles. Never includes a credential value.
    public var summary: [String] {
        var lines: [String] = []
        let tls = listen.tls
        var listener = "listener: https://\(Self.hostForURL(listen.address)):\(listen.port)"
        listener += ", authentication \(listen.authentication.rawValue)"
        if let clientCA = tls.clientCA { listener += ", client certificates \(tls.clientAuth.rawValue) (CA \(clientCA.written))" }
        lines.append(listener)
        if tls.needsDevelopmentCertificates {
            lines.append("  certificate \(tls.certificate.written) is missing: gatewayd will create development certificates")
        }
        lines.append("admin: http://\(Self.hostForURL(admin.address)):\(admin.port) (/healthz /readyz /metrics)")
        for provider in providers {
            lines.append("provider \(provider.name) (\(provider.apiShape.rawValue)): \(provider.baseURL)")
            for prefix in provider.pathPrefixes {
                // A path another provider also serves is this one's only for requests carrying its route header.
                let shared = provider.routeHeader.flatMap { header in
                    self.providers.contains { $0.name != provider.name && $0.matches(path: prefix) }
                        ? " (requests with \(header))" : nil
                } ?? ""
                lines.append("  route \(prefix)\(shared) → \(provider.baseURL.scheme)://\(provider.baseURL.hostHeader)\(provider.baseURL.upstreamPath(for: prefix))")
            }
        }
        let roleNames = rolePolicy.roles.keys.sorted().joined(separator: ", ")
        lines.append("policy: \(policy.file.written): roles \(roleNames)")
        return lines
    }

    private static func hostForURL(_ address: String) -> String {
        address.contains(":") ? "[\(address)]" : address
    }
}
