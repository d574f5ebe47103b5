/// The providers both gateway harnesses configure (`GatewayHarness` over sockets, `EmbeddedGateway` in memory),
/// as the `providers:` list of a gateway.yaml, indented for it. Only the addresses differ between the two.
enum HarnessProviders {
    struct Addresses {
        /// The fake vendor (`/hang` and `/idle` are paths under it).
        var vendor: String
        /// A vendor whose certificate names only wrong.example.
        var wrongHost: String
        /// A port nothing listens on.
        var refused: String
        /// A listener that never answers the TLS handshake.
        var silent: String
    }

    static func yaml(_ at: Addresses, openAIPool: Int? = nil, anthropicPool: Int? = nil) -> String {
        func pool(_ connections: Int?) -> String {
            connections.map { "\n    pool: {max_connections: \($0)}" } ?? ""
        }
        return """
              - name: openai
                base_url: \(at.vendor)
                paths: [/v1/chat/completions, /v1/models]
                credential: {header: Authorization, value: "\(VendorKeys.openAI)"}
                ca_file: vendor-ca.pem\(pool(openAIPool))
                timeouts: {connect_seconds: 2, tls_seconds: 2, first_byte_seconds: 10, idle_seconds: 10}
                # The defaults, plus the fake vendor's controls and one end-to-end field the tests follow.
                forward_headers: [accept, content-type, content-encoding, user-agent, openai-*, x-stainless-*, x-fake-*, x-kept]
              - name: anthropic
                base_url: \(at.vendor)
                paths: [/v1/messages]
                credential: {header: x-api-key, value: "\(VendorKeys.anthropic)"}
                ca_file: vendor-ca.pem\(pool(anthropicPool))
                timeouts: {connect_seconds: 2, tls_seconds: 2, first_byte_seconds: 10, idle_seconds: 10}
              - name: refused
                base_url: \(at.refused)
                paths: [/refused]
                api_shape: openai
                credential: {header: Authorization, value: "\(VendorKeys.other)"}
                ca_file: vendor-ca.pem
                timeouts: {connect_seconds: 2, tls_seconds: 2}
              - name: wronghost
                base_url: \(at.wrongHost)
                paths: [/wronghost]
                api_shape: openai
                credential: {header: Authorization, value: "\(VendorKeys.wrongHost)"}
                ca_file: vendor-ca.pem
                timeouts: {connect_seconds: 2, tls_seconds: 2}
              - name: slow
                base_url: \(at.vendor)/hang
                paths: [/slow]
                api_shape: openai
                credential: {header: Authorization, value: "\(VendorKeys.other)"}
                ca_file: vendor-ca.pem
                timeouts: {connect_seconds: 2, tls_seconds: 2, first_byte_seconds: 1}
              - name: silent
                base_url: \(at.silent)
                paths: [/silent]
                api_shape: openai
                credential: {header: Authorization, value: "\(VendorKeys.other)"}
                ca_file: vendor-ca.pem
                timeouts: {connect_seconds: 2, tls_seconds: 1}
              - name: idle
                base_url: \(at.vendor)/idle
                paths: [/idle]
                api_shape: openai
                credential: {header: Authorization, value: "\(VendorKeys.other)"}
                ca_file: vendor-ca.pem
                timeouts: {connect_seconds: 2, tls_seconds: 2, first_byte_seconds: 1, idle_seconds: 1}
                forward_headers: [content-type, x-fake-*]
              - name: slow-anthropic
                base_url: \(at.vendor)/hang
                paths: [/slow-anthropic]
                api_shape: anthropic
                credential: {header: x-api-key, value: "\(VendorKeys.other)"}
                ca_file: vendor-ca.pem
                timeouts: {connect_seconds: 2, tls_seconds: 2, first_byte_seconds: 1}
            """
    }
}
