import GatewayRules
import Testing

/// The classes of misses and false positives found on other scanners' published fixtures (issue 15), each pinned:
/// the rule examples in `rules/` cover the patterns; these cover what the engine adds around them.
@Suite("Real-world forms")
struct RealWorldFormsTests {
    static func findings(_ text: String) throws -> [Finding] {
        try TestSupport.inspector.inspect(body: Array(text.utf8), contentType: "text/plain", contentEncoding: nil).findings
    }

    @Test("Documentation placeholders are not credentials; random tokens are", arguments: [
        ("ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", true), ("AKIAZZZZZZZZZZZZZZZZ", true),
        ("AKIAIOSFODNN7EXAMPLE", true), ("AKIADEADBEEFDEADBEEF", true), ("AIzaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true),
        ("ghp_R4nd0mT0kenV4lu3sAreN0tF1ll3r5Q9zXwK", false), ("AKIAL2YY5HLGNUZLUMHX", false),
    ])
    func placeholders(value: String, isPlaceholder: Bool) {
        #expect(Validators.isPlaceholder(value[...]) == isPlaceholder)
    }

    @Test("A private key's base64 may hold long runs (zero bytes): never taken for a placeholder")
    func longValuesAreNotPlaceholders() {
        let key = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAlwAAAAdzc2gtcn" + String(repeating: "Nh", count: 80)
        #expect(!Validators.isPlaceholder(key[...]))
    }

    @Test("A placeholder token is not blocked; the same shape with a random body is")
    func placeholderTokensPass() throws {
        #expect(try Self.findings("aws key AKIAZZZZZZZZZZZZZZZZ").isEmpty)
        #expect(try Self.findings("aws key AKIAL2YY5HLGNUZLUMHX").contains { $0.type == "aws_access_key_id" })
    }

    @Test("A digit-anchored rule without a digit shape runs on shapeless digit runs (a bare national number)")
    func shapelessDigitRule() throws {
        #expect(try Self.findings("my phone is 13812345678").contains { $0.type == "phone" })
        #expect(try Self.findings("call 0171-1234567 today").contains { $0.type == "phone" })
        #expect(try Self.findings("order 13812345678 shipped").isEmpty, "no phone word: not a phone number")
    }

    @Test("JWTs without a signature: alg none with a trailing dot, and two parts")
    func unsignedJWT() throws {
        #expect(Validators.jwt("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiIxMjM0NTY3ODkwIn0."))
        #expect(Validators.jwt("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0"))
        #expect(!Validators.jwt("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.bm90IGpzb24"), "a payload that is not JSON")
    }

    @Test("IBANs of Portugal and Honduras are known; an IBAN before a short word is found")
    func iban() throws {
        #expect(Validators.iban("PT50000201231234567890154"))
        #expect(try Self.findings("pay AL35 2021 1109 0000 0000 0123 4567 ALL today").contains { $0.type == "iban" })
    }

    @Test("A JWT whose header is damaged inside is still one; a header garbled from the start or cut short is not")
    func damagedJWTHeader() throws {
        let payload = "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
        let signature = "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
        #expect(Validators.jwt("eyJhbGciOiJIUzI1NiIsEnR5cCI6IkpXVCJ9.\(payload).\(signature)"[...]), "one byte changed")
        #expect(!Validators.jwt("eyJhbasdGciOiJIUaddasdasfsasdasdzI1NiIasdsInR5cCI6IkpXVCasdJasd9.\(payload).\(signature)"[...]))
        #expect(!Validators.jwt("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ.\(payload).\(signature)"[...]), "cut short")
        #expect(!Validators.jwt("eyJhbGciOiJIUzI1NiIsEnR5cCI6IkpXVCJ9.\(payload)."[...]), "damaged and unsigned")
        // A pretty-printed header (`{\n  "alg": …}`) is base64 `ewog…`.
        #expect(try Self.findings("ewogICJhbGciOiJIUzI1NiIsCiIgIHR5cCI6IkpXVCIKfQo.\(payload).\(signature)").contains { $0.type == "jwt" })
    }

    @Test("UATP cards (prefix 1) have 15 digits")
    func uatp() {
        #expect(Validators.paymentCard("122000000000003"))
        #expect(!Validators.paymentCard("1220000000000002"))
    }

    @Test("A dictionary password after a password word is a secret; code, references and prose about passwords are not",
          arguments: [
              ("user = 'Aladdin'\npassword = 'open sesame'", true), ("Username=joe\nPassword=thisismypassword", true),
              ("The default password for the user \"pyne-user\" is \"pyne\".", true),
              ("if username == \"jojoba\" and password == \"team10\":", true),
              ("machine api.github.com login ziggy password 012345abcdef", true),
              ("psexec \\\\10.0.94.120 -u Administrator -p dev_admin cmd", true),
              ("password = request.form[\"password\"]", false), ("self.username, self.password = credentials", false),
              ("password: ${DB_PASSWORD}", false), ("Password: must be at least 8 characters", false),
              ("passwordLabel: \"Password:\"", false), ("build 12345678 passed in 3m10s", false),
          ])
    func dictionaryPasswords(text: String, isSecret: Bool) throws {
        #expect(try Self.findings(text).contains { $0.type == "generic_secret" } == isSecret, "\(text)")
    }

    @Test("Slack tokens need Slack's structure: numeric ids then a secret part, not words after the prefix")
    func slackStructure() throws {
        #expect(try Self.findings("xoxb-781236542736-2364535789652-GkwFDQoHqzXDVsC6GzqYUypD").contains { $0.type == "slack_token" })
        for fake in ["xoxb-12345-abcd234", "xoxb-abcdef-abcdef", "xoxe.xoxp-1-RANDOMSTRINGHERE", "xoxb-xoxb-my-bot-token"] {
            #expect(try Self.findings(fake).isEmpty, "\(fake)")
        }
    }

    @Test("A private key block must hold a body; a header cut off after some key text is a key")
    func privateKeyBodies() throws {
        #expect(try Self.findings("-----BEGIN PRIVATE KEY-----\nanything\n-----END PRIVATE KEY-----").isEmpty)
        #expect(try Self.findings("notes\n-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG").contains { $0.type == "private_key" })
    }
}

@Suite("rules test --explain")
struct ExplainTests {
    @Test("Each candidate's fate is named: reported with its context words, or the validator, placeholder or allow pattern that refused it")
    func explainsEveryCandidate() throws {
        let text = "password = changeme\ncall me on 0171 1234567\nkey AKIAZZZZZZZZZZZZZZZZ and AKIAL2YY5HLGNUZLUMHX\n"
            + "postgres://app:${DB_PASSWORD}@db:5432/orders"
        let explanation = RulesTool.explain(input: Array(text.utf8), inspector: TestSupport.inspector)
        let events = explanation.texts.flatMap(\.events)
        let outcomes = Dictionary(grouping: events, by: \.rule)
        #expect(outcomes["phone-number-national"]?.first?.outcome == .accepted(confidence: 0.7, raised: ["call"], lowered: []))
        #expect(outcomes["aws-access-key-id"]?.map(\.outcome).contains(.placeholder) == true)
        #expect(outcomes["aws-access-key-id"]?.contains { if case .accepted = $0.outcome { true } else { false } } == true)
        #expect(outcomes["generic-secret-assignment"]?.first?.outcome == .validatorRejected("secretValue(3.0)"))
        #expect(outcomes["database-url-with-password"]?.first.map { if case .allowedPattern = $0.outcome { true } else { false } } == true)
        #expect(!explanation.render().contains("AKIAL2YY5HLGNUZLUMHX"), "values are masked")
    }

    @Test("The explanation reads the body as the gateway does: a secret-named member's value is explained with its name")
    func explainsThePathTheGatewayScans() {
        let body = #"{"input":{"api_token":"Zf3D0LXCM3EIMbgJpUNnkRtOfOueHznB"}}"#
        let explanation = RulesTool.explain(input: Array(body.utf8), inspector: TestSupport.inspector)
        let text = explanation.texts.first { $0.location == "input.api_token (with its name)" }
        #expect(text?.events.contains { $0.rule == "generic-secret-assignment" } == true, "\(explanation.render())")
    }
}

@Suite("JSON member names pair with their values")
struct JSONPairTests {
    static func inspect(_ json: String) throws -> Decision {
        try TestSupport.inspector.inspect(body: Array(json.utf8), contentType: "application/json", contentEncoding: nil)
    }

    @Test("A secret-named member's value is scanned with its name: a tool_use input's api_token is found")
    func toolUseInput() throws {
        let decision = try Self.inspect(
            #"{"model":"m","messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"deploy","input":{"api_token":"Zf3D0LXCM3EIMbgJpUNnkRtOfOueHznB","region":"eu"}}]}]}"#)
        #expect(decision.isBlocked)
        #expect(decision.findings.contains { $0.ruleID == "generic-secret-assignment" && $0.location.hasSuffix("input.api_token") })
    }

    @Test("The same value under an ordinary name, and a low-entropy value under a secret name, are not secrets")
    func onlySecretNamesAndRealValues() throws {
        #expect(try Self.inspect(#"{"input":{"region":"Zf3D0LXCM3EIMbgJpUNnkRtOfOueHznB"}}"#).findings.isEmpty)
        #expect(try Self.inspect(#"{"input":{"max_tokens":"1024","token_type":"bearer"}}"#).findings.isEmpty)
    }

    @Test("Redaction inside a paired value edits the value only, at the right place")
    func redactionOffsets() throws {
        let decision = try Self.inspect(#"{"input":{"secret_note":"mail jane.doe@acme-widgets.co.uk now"}}"#)
        guard case .redact(let rewritten, _) = decision.verdict else { Issue.record("\(decision.verdict)"); return }
        let text = String(decoding: rewritten, as: UTF8.self)
        #expect(text.contains(#""secret_note":"mail [EMAIL"#))
        #expect(text.hasSuffix(#" now"}}"#))
    }
}
