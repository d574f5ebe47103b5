import GatewayConfig
import Testing

@Suite struct ValidationTests {
    @Test func defaultsApplyWhenOnlyProvidersAreGiven() throws {
        let fixture = try ConfigFixture()
        let configuration = try fixture.load(minimalProviders)
        #expect(configuration.listen.address == "127.0.0.1")
        #expect(configuration.listen.port == 8443)
        #expect(configuration.listen.tls.clientCA == nil)
        #expect(configuration.listen.tls.clientAuth == ClientAuthMode.none)
        #expect(configuration.listen.tls.sessionTickets)
        #expect(configuration.listen.tls.ticketKeyRotationSeconds == 3600)
        #expect(configuration.admin.address == "127.0.0.1" && configuration.admin.port == 9090)
        #expect(configuration.limits == LimitSettings())
        #expect(configuration.limits.inspectionDeadlineMilliseconds == 250)
        #expect(configuration.limits.maxDecompressedBytes == 33_554_432)
        #expect(configuration.limits.maxDecompressionRatio == 100)
        #expect(configuration.shutdown.drainSeconds == 30)
        #expect(configuration.providers[0].timeouts.firstByteSeconds == 600)
    }

    @Test func firstByteTimeoutDefaultsToTheGlobalUpstreamTimeout() throws {
        let fixture = try ConfigFixture()
        let configuration = try fixture.load("limits: {upstream_timeout_seconds: 42}\n" + minimalProviders)
        #expect(configuration.providers[0].timeouts.firstByteSeconds == 42)
    }

    @Test func badPortsAreReported() throws {
        let fixture = try ConfigFixture()
        let paths = fixture.problemPaths("""
            listen: {port: 70000}
            admin: {port: -1}
            \(minimalProviders)
            """)
        #expect(paths == ["listen.port", "admin.port"])
    }

    @Test func nonNumericPortIsReportedWithItsLine() throws {
        let fixture = try ConfigFixture()
        let problems = fixture.problems("""
            listen:
              port: https
            \(minimalProviders)
            """)
        #expect(problems.map(\.keyPath.description) == ["listen.port"])
        #expect(problems.first?.line == 2)
        #expect(problems.first?.description.hasPrefix(fixture.path("gateway.yaml") + ": listen.port: ") == true)
    }

    @Test func unknownKeysAreErrorsWithTheirPathAndASuggestion() throws {
        let fixture = try ConfigFixture()
        let problems = fixture.problems("""
            listen: {adress: 0.0.0.0}
            limits: {max_body_byte: 10}
            colour: blue
            providers:
              - name: openai
                base_url: https://api.openai.com
                paths: [/v1/chat/completions]
                credential: {header: Authorization, value: x, extra: 1}
                timeouts: {conect_seconds: 3}
            """)
        #expect(Set(problems.map(\.keyPath.description)) == [
            "listen.adress", "limits.max_body_byte", "colour", "providers[0].credential.extra",
            "providers[0].timeouts.conect_seconds",
        ])
        #expect(problems.first { $0.keyPath.description == "listen.adress" }?.message.contains("did you mean 'address'") == true)
    }

    @Test func adminMustStayOnLoopbackUnlessAllowed() throws {
        let fixture = try ConfigFixture()
        #expect(fixture.problemPaths("admin: {address: 0.0.0.0}\n" + minimalProviders) == ["admin.address"])
        #expect(fixture.problemPaths("admin: {address: 10.1.2.3}\n" + minimalProviders) == ["admin.address"])
        #expect(fixture.problemPaths("admin: {address: '::1'}\n" + minimalProviders) == [])
        #expect(fixture.problemPaths("admin: {address: localhost}\n" + minimalProviders) == [])
        #expect(fixture.problemPaths("admin: {address: 0.0.0.0, allow_remote: true}\n" + minimalProviders) == [])
    }

    @Test func adminAndListenerCannotShareAPort() throws {
        let fixture = try ConfigFixture()
        #expect(fixture.problemPaths("listen: {port: 9000}\nadmin: {port: 9000}\n" + minimalProviders) == ["admin.port"])
    }

    @Test func providersAreRequired() throws {
        let fixture = try ConfigFixture()
        #expect(fixture.problemPaths("listen: {port: 8443}\n") == ["providers"])
        #expect(fixture.problemPaths("providers: []\n") == ["providers"])
    }

    @Test func duplicateProviderNamesAndRoutesAreReported() throws {
        let fixture = try ConfigFixture()
        let problems = fixture.problems("""
            providers:
              - name: openai
                base_url: https://api.openai.com
                paths: [/v1/chat/completions, /v1/models]
                credential: {header: Authorization, value: a}
              - name: openai
                base_url: https://api.example.com
                paths: [/v1/models/special, /v1/chat/completions, /v1/other]
                credential: {header: Authorization, value: b}
            """)
        #expect(problems.map(\.keyPath.description) == [
            "providers[1].name", "providers[1].paths[0]", "providers[1].paths[1]",
        ])
        #expect(problems[0].message.contains("duplicate provider name 'openai'"))
        #expect(problems[1].message.contains("overlaps '/v1/models'"))
        #expect(problems[2].message.contains("is also routed to"))
    }

    @Test func aSharedPathNeedsExactlyOneRouteHeader() throws {
        let fixture = try ConfigFixture()
        func providers(_ first: String, _ second: String) -> String {
            """
            providers:
              - name: openai
                base_url: https://api.openai.com
                paths: [/v1/files]
                credential: {header: Authorization, value: a}\(first)
              - name: anthropic
                base_url: https://api.anthropic.com
                paths: [/v1/messages, /v1/files]
                credential: {header: x-api-key, value: b}\(second)
            """
        }
        let header = "\n    route_header: anthropic-version"
        #expect(fixture.problems(providers("", header)).isEmpty)
        #expect(fixture.problems(providers("", "")).map(\.keyPath.description) == ["providers[1].paths[1]"])
        #expect(fixture.problems(providers(header, header)).map(\.keyPath.description) == ["providers[1].paths[1]"])
        #expect(fixture.problems(providers("", "\n    route_header: 'bad name'")).map(\.keyPath.description)
            == ["providers[1].route_header"])
    }

    @Test func prefixesOnSegmentBoundariesDoNotOverlap() throws {
        let fixture = try ConfigFixture()
        let paths = fixture.problemPaths("""
            providers:
              - {name: a, base_url: https://a.example, paths: [/v1/chat], credential: {header: x-key, value: a}}
              - {name: b, base_url: https://b.example, paths: [/v1/chatter], credential: {header: x-key, value: b}}
            """)
        #expect(paths == [])
    }

    @Test func pathPrefixSyntaxIsChecked() throws {
        let fixture = try ConfigFixture()
        let problems = fixture.problems("""
            providers:
              - name: openai
                base_url: https://api.openai.com
                paths: [v1/chat, /v1/ok, /v1/q?x, /v1/*, /v1/ok, "/v1/a b", /v1/../admin]
                credential: {header: Authorization, value: a}
            """)
        #expect(problems.map(\.keyPath.description) == [
            "providers[0].paths[0]", "providers[0].paths[2]", "providers[0].paths[3]", "providers[0].paths[4]",
            "providers[0].paths[5]", "providers[0].paths[6]",
        ])
        #expect(problems[0].message.contains("must start with '/'"))
        #expect(problems[3].message.contains("listed twice"))
    }

    @Test func baseURLMustBeHTTPSUnlessInsecureIsAllowed() throws {
        let fixture = try ConfigFixture()
        let yaml = """
            providers:
              - {name: a, base_url: "http://127.0.0.1:8080", paths: [/a], credential: {header: x-key, value: a}}
              - {name: b, base_url: "ftp://example.com", paths: [/b], credential: {header: x-key, value: a}}
              - {name: c, base_url: "https://user:pw@example.com", paths: [/c], credential: {header: x-key, value: a}}
              - {name: d, base_url: "not a url", paths: [/d], credential: {header: x-key, value: a}}
              - {name: e, base_url: "https://example.com/?q=1", paths: [/e], credential: {header: x-key, value: a}}
            """
        #expect(fixture.problemPaths(yaml) == [
            "providers[0].base_url", "providers[1].base_url", "providers[2].base_url", "providers[3].base_url",
            "providers[4].base_url",
        ])
        let problems = fixture.problems(yaml)
        #expect(problems[0].message.contains("allow_insecure_http"))
        #expect(!problems[2].message.contains("pw"))
    }

    @Test func insecureHTTPIsAcceptedForTestsAndTheURLIsSplit() throws {
        let fixture = try ConfigFixture()
        let configuration = try fixture.load("""
            providers:
              - name: fake
                base_url: http://127.0.0.1:18080/proxy/
                allow_insecure_http: true
                paths: [/v1/chat/completions]
                credential: {header: Authorization, value: Bearer k}
            """)
        let url = configuration.providers[0].baseURL
        #expect(url == UpstreamURL(scheme: "http", host: "127.0.0.1", port: 18080, basePath: "/proxy"))
        #expect(!url.isTLS)
        #expect(url.hostHeader == "127.0.0.1:18080")
        #expect(url.upstreamPath(for: "/v1/chat/completions") == "/proxy/v1/chat/completions")
        #expect(configuration.providers[0].apiShape == .openai)
    }

    @Test func ipv6BaseURLAndExplicitPort() throws {
        let fixture = try ConfigFixture()
        let configuration = try fixture.load("""
            providers:
              - {name: v6, base_url: "https://[::1]:8444", paths: [/v1/messages], credential: {header: x-api-key, value: k}}
            """)
        #expect(configuration.providers[0].baseURL.host == "::1")
        #expect(configuration.providers[0].baseURL.port == 8444)
        #expect(configuration.providers[0].baseURL.hostHeader == "[::1]:8444")
        #expect(configuration.providers[0].apiShape == .anthropic)
    }

    @Test func credentialHeaderAndValueAreChecked() throws {
        let fixture = try ConfigFixture()
        let problems = fixture.problems("""
            providers:
              - {name: a, base_url: https://a.example, paths: [/a], credential: {header: "Bad Header", value: x}}
              - {name: b, base_url: https://b.example, paths: [/b], credential: {header: Host, value: x}}
              - {name: c, base_url: https://c.example, paths: [/c], credential: {header: x-api-key, value: "sk-secret\\r\\nX-Evil: 1"}}
              - {name: d, base_url: https://d.example, paths: [/d], credential: {value: x}}
              - {name: e, base_url: https://e.example, paths: [/e]}
            """)
        #expect(problems.map(\.keyPath.description) == [
            "providers[0].credential.header", "providers[1].credential.header", "providers[2].credential.value",
            "providers[3].credential.header", "providers[4].credential",
        ])
        #expect(problems[2].message.contains("CR, LF"))
        #expect(!problems.contains { $0.description.contains("sk-secret") })
    }

    @Test func emptyCredentialIsAWarningNamingTheVariable() throws {
        let fixture = try ConfigFixture()
        let configuration = try fixture.load("""
            providers:
              - name: openai
                base_url: https://api.openai.com
                paths: [/v1/chat/completions]
                credential: {header: Authorization, value: "Bearer ${OPENAI_API_KEY:-}"}
            """)
        #expect(configuration.warnings.count == 1)
        #expect(configuration.warnings[0].keyPath == ConfigKeyPath("providers[0].credential.value"))
        #expect(configuration.warnings[0].message.contains("OPENAI_API_KEY"))
        #expect(configuration.warnings[0].description.contains("warning:"))
    }

    @Test func credentialValueIsNeverPrinted() throws {
        let credential = ProviderCredential(header: "Authorization", value: "Bearer sk-very-secret")
        #expect(!"\(credential)".contains("sk-very"))
        #expect(!String(reflecting: credential).contains("sk-very"))
        #expect(!String(describing: Mirror(reflecting: credential).children.map(\.value)).contains("sk-very"))
    }

    @Test func apiShapeIsInferredOrExplicit() throws {
        let fixture = try ConfigFixture()
        let configuration = try fixture.load("""
            providers:
              - {name: claude-anthropic-eu, base_url: https://eu.example, paths: [/eu], credential: {header: x-api-key, value: k}}
              - {name: gateway2, base_url: https://g.example, paths: [/v1/messages], credential: {header: x-api-key, value: k}}
              - {name: plain, base_url: https://p.example, paths: [/v1/chat/completions], credential: {header: x-api-key, value: k}}
              - {name: forced, base_url: https://f.example, paths: [/x], api_shape: anthropic, credential: {header: x-api-key, value: k}}
            """)
        #expect(configuration.providers.map(\.apiShape) == [.anthropic, .anthropic, .openai, .anthropic])
        #expect(fixture.problemPaths("""
            providers:
              - {name: a, base_url: https://a.example, paths: [/a], api_shape: gemini, credential: {header: x-api-key, value: k}}
            """) == ["providers[0].api_shape"])
    }

    @Test func referencedFilesMustExist() throws {
        let fixture = try ConfigFixture()
        let problems = fixture.problems("""
            rules: {directory: missing-rules}
            policy: {file: missing-policy.yaml}
            providers:
              - name: openai
                base_url: https://api.openai.com
                paths: [/v1/chat/completions]
                credential: {header: Authorization, value: a}
                ca_file: certs/missing-ca.pem
            """)
        #expect(problems.map(\.keyPath.description) == ["providers[0].ca_file", "rules.directory", "policy.file"])
        #expect(problems[0].message.contains(fixture.path("certs/missing-ca.pem")))
        #expect(problems[0].line == 8)
    }

    @Test func missingListenerCertificateAndKeyAreLeftToTheDaemon() throws {
        let fixture = try ConfigFixture(files: [])
        let configuration = try fixture.load(minimalProviders)
        #expect(configuration.listen.tls.missingFiles == [.certificate, .key])
        #expect(configuration.listen.tls.needsDevelopmentCertificates)
        #expect(configuration.summary.contains { $0.contains("development certificates") })
    }

    @Test func halfAMissingKeyPairIsAProblem() throws {
        let fixture = try ConfigFixture(files: ["certs/server.pem"])
        #expect(fixture.problemPaths(minimalProviders) == ["listen.tls.key"])
        let withCA = try ConfigFixture()
        #expect(withCA.problemPaths("listen: {tls: {client_ca: certs/ca.pem}}\n" + minimalProviders) == ["listen.tls.client_ca"])
    }

    @Test func certificateAuthenticationNeedsAClientCA() throws {
        let fixture = try ConfigFixture(files: ["certs/server.pem", "certs/server.key", "certs/ca.pem"])
        #expect(fixture.problemPaths("listen: {authentication: certificate}\n" + minimalProviders) == ["listen.authentication"])
        #expect(fixture.problemPaths("listen: {tls: {client_auth: required}}\n" + minimalProviders) == ["listen.tls.client_auth"])
        #expect(fixture.problemPaths(
            "listen: {authentication: key_and_certificate, tls: {client_ca: certs/ca.pem, client_auth: none}}\n" + minimalProviders
        ) == ["listen.authentication"])
        let configuration = try fixture.load(
            "listen: {authentication: key_or_certificate, tls: {client_ca: certs/ca.pem, client_auth: required}}\n" + minimalProviders)
        #expect(configuration.listen.authentication == .keyOrCertificate)
        #expect(configuration.listen.tls.clientAuth == .required)
        #expect(fixture.problemPaths("listen: {authentication: password}\n" + minimalProviders) == ["listen.authentication"])
    }

    @Test func limitsMustBePositive() throws {
        let fixture = try ConfigFixture()
        let paths = fixture.problemPaths("""
            limits: {max_body_bytes: 0, max_header_bytes: 10, upstream_timeout_seconds: -5, inspection_deadline_ms: 0,
                     max_decompressed_bytes: lots, max_decompression_ratio: 0}
            shutdown: {drain_seconds: -1}
            \(minimalProviders)
            """)
        #expect(paths == [
            "limits.max_body_bytes", "limits.max_header_bytes", "limits.upstream_timeout_seconds",
            "limits.inspection_deadline_ms", "limits.max_decompressed_bytes", "limits.max_decompression_ratio",
            "shutdown.drain_seconds",
        ])
    }

    @Test func manyProblemsAreAllListedOneLineEach() throws {
        let fixture = try ConfigFixture()
        let yaml = """
            listen: {port: 99999, address: "not an address!"}
            admin: {address: 192.168.1.10}
            limits: {max_body_bytes: big}
            typo_section: {}
            providers:
              - name: openai
                base_url: http://api.openai.com
                paths: [v1/chat]
                credential: {header: "Auth orization", value: "${MISSING_KEY}"}
              - name: openai
                base_url: https://api.example.com
                paths: [/v1/models]
                credential: {header: x-api-key, value: k}
            """
        do {
            _ = try fixture.load(yaml)
            Issue.record("expected problems")
        } catch {
            let paths = error.problems.map(\.keyPath.description)
            #expect(Set(paths) == [
                "listen.address", "listen.port", "admin.address", "limits.max_body_bytes", "typo_section",
                "providers[0].base_url", "providers[0].paths[0]", "providers[0].credential.header",
                "providers[0].credential.value", "providers[1].name",
            ])
            #expect(paths.count == 10)
            let lines = error.description.split(separator: "\n")
            #expect(lines.count == error.problems.count)
            #expect(lines.allSatisfy { $0.hasPrefix(fixture.path("gateway.yaml") + ": ") })
            #expect(error.description.contains("MISSING_KEY"))
        }
    }

    @Test func yamlSyntaxErrorsHaveALineAndColumn() throws {
        let fixture = try ConfigFixture()
        let problems = fixture.problems("listen:\n  port: 8443\n   address: [unclosed\n")
        #expect(problems.count == 1)
        #expect(problems.first?.keyPath == .root)
        #expect(problems.first?.line != nil)
        #expect(problems.first?.column != nil)
        #expect(problems.first?.description.contains("(line ") == true)
    }

    @Test func duplicateYAMLKeysAreReported() throws {
        let fixture = try ConfigFixture()
        let problems = fixture.problems("listen: {port: 1}\nlisten: {port: 2}\n" + minimalProviders)
        #expect(problems.count == 1)
        #expect(problems.first?.message.contains("duplicate key") == true)
    }

    @Test func aMissingFileIsOneProblem() {
        do {
            _ = try ConfigLoader.load(path: "/nonexistent/gateway.yaml", environment: [:])
            Issue.record("expected a problem")
        } catch {
            #expect(error.problems.count == 1)
            #expect(error.problems[0].file == "/nonexistent/gateway.yaml")
            #expect(error.problems[0].message.contains("not found"))
        }
    }

    @Test func wrongSectionTypesAreReportedNotCrashed() throws {
        let fixture = try ConfigFixture()
        #expect(fixture.problemPaths("listen: 8443\n" + minimalProviders) == ["listen"])
        #expect(fixture.problemPaths("providers: {name: openai}\n") == ["providers"])
        #expect(fixture.problemPaths("- just\n- a list\n") == [""])
    }
}

@Suite struct RouteOverlapTests {
    @Test func overlapProblemsPointAtTheOriginalListPosition() throws {
        let fixture = try ConfigFixture()
        let problems = fixture.problems("""
            providers:
              - {name: a, base_url: https://a.example, paths: [/v1/models], credential: {header: x-key, value: a}}
              - {name: b, base_url: https://b.example, paths: [v1/bad, /v1], credential: {header: x-key, value: b}}
            """)
        #expect(problems.map(\.keyPath.description) == ["providers[1].paths[0]", "providers[1].paths[1]"])
        #expect(problems[1].message.contains("overlaps '/v1/models' of provider 'a' (providers[0])"))
    }

    @Test func segmentPrefixSemantics() {
        #expect(RoutePrefix.covers("/v1/models", path: "/v1/models"))
        #expect(RoutePrefix.covers("/v1/models", path: "/v1/models/x"))
        #expect(RoutePrefix.covers("/v1/models", path: "/v1/models?limit=1"))
        #expect(!RoutePrefix.covers("/v1/models", path: "/v1/modelsx"))
        #expect(RoutePrefix.covers("/v1/", path: "/v1/anything"))
        #expect(RoutePrefix.overlap("/v1", "/v1/messages"))
        #expect(!RoutePrefix.overlap("/v1/chat", "/v1/chatter"))
    }
}
