import GatewayRules
import Testing

@Suite struct RuleLoaderTests {
    @Test func defaultPackLoadsAndEveryExampleHolds() throws {
        let set = TestSupport.defaultRules
        #expect(set.rules.count >= 30)
        #expect(RuleLoader.checkExamples(set).isEmpty)
        for rule in set.rules {
            #expect(!rule.examples.match.isEmpty, "rule \(rule.id) has no match example")
            #expect(rule.pattern.isJITCompiled, "rule \(rule.id) did not JIT-compile")
        }
        let types = Set(set.rules.map(\.type))
        for required in ["email", "phone", "credit_card", "iban", "us_ssn", "ca_sin", "github_token", "stripe_key",
                         "slack_token", "slack_webhook", "openai_api_key", "anthropic_api_key", "jwt", "google_api_key",
                         "connection_string", "aws_access_key_id", "aws_secret_access_key", "private_key"]
        {
            #expect(types.contains(required), "no rule finds \(required)")
        }
    }

    @Test func everyProblemIsReportedWithFileRuleAndOffset() {
        let broken = """
            rules:
              - id: bad-pattern
                category: secret
                type: thing
                pattern: 'abc(def'
                examples: {match: ['abcdef']}
              - id: bad-validator
                category: pii
                type: thing
                pattern: 'x+'
                validator: nope
                examples: {match: ['xx']}
              - id: failing-example
                category: pii
                type: thing
                pattern: 'foo\\d'
                keywords: [foo]
                examples: {match: ['foo'], no_match: ['foo1']}
              - id: no-examples
                category: pii
                type: thing
                pattern: 'bar'
            """
        let duplicate = """
            rules:
              - id: bad-validator
                category: pii
                type: thing
                pattern: 'y'
                examples: {match: ['y']}
            """
        do {
            _ = try RuleLoader.load(files: [("one.yaml", broken), ("two.yaml", duplicate)])
            Issue.record("loading broken rules succeeded")
        } catch {
            let problems = error.problems
            let byRule = Dictionary(grouping: problems, by: { $0.ruleID ?? "" })
            let compile = byRule["bad-pattern"]?.first
            #expect(compile?.file == "one.yaml")
            #expect(compile?.patternOffset == 7)
            #expect(compile?.message.contains("missing closing parenthesis") == true)
            #expect(byRule["bad-validator"]?.contains { $0.message.contains("unknown validator") } == true)
            #expect(byRule["bad-validator"]?.contains { $0.message.contains("duplicate") } == true)
            #expect(byRule["failing-example"]?.count == 2)  // one match, one no_match example failing
            #expect(byRule["no-examples"]?.isEmpty == false)
        }
    }

    @Test func yamlSyntaxErrorsAreReported() {
        do {
            _ = try RuleLoader.load(files: [("x.yaml", "rules: [ {id: a, ")])
            Issue.record("loading bad YAML succeeded")
        } catch {
            #expect(error.problems.first?.file == "x.yaml")
            #expect(error.problems.first?.message.hasPrefix("YAML") == true)
        }
    }

    @Test func keywordPrefilterIsCaseInsensitive() throws {
        let set = try RuleLoader.load(files: [("k.yaml", """
            rules:
              - id: kw
                category: secret
                type: thing
                pattern: '(?i)magic-[0-9]{4}'
                keywords: [MAGIC-]
                examples: {match: ['Magic-1234', 'mAgIc-9999'], no_match: ['magic1234']}
            """)])
        #expect(set.rules[0].keywords == ["magic-"])
    }
}

@Suite struct RuleSetDigestTests {
    static let file = """
        rules:
          - id: thing
            category: secret
            type: thing
            pattern: 'thing-[0-9]{4}'
            examples: {match: ['thing-1234']}
        """

    @Test func theDigestIsOfTheFilesLoadedNamesAndContents() throws {
        let one = try RuleLoader.load(files: [("a.yaml", Self.file)])
        #expect(one.sourceDigest == (try RuleLoader.load(files: [("/elsewhere/a.yaml", Self.file)])).sourceDigest)
        #expect(one.sourceDigest != (try RuleLoader.load(files: [("b.yaml", Self.file)])).sourceDigest)
        #expect(one.sourceDigest != (try RuleLoader.load(files: [("a.yaml", Self.file + "\n")])).sourceDigest)
    }
}
