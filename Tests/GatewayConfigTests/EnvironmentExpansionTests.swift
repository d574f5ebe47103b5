import GatewayConfig
import Testing

@Suite struct EnvironmentExpansionTests {
    let expander = EnvironmentExpander(environment: ["KEY": "sk-1", "EMPTY": "", "PORT": "9443"])

    @Test func expandsReferences() {
        #expect(expander.expand("Bearer ${KEY}") == .success("Bearer sk-1"))
        #expect(expander.expand("${KEY}${KEY}") == .success("sk-1sk-1"))
        #expect(expander.expand("no references") == .success("no references"))
    }

    @Test func missingVariableIsNamed() {
        #expect(expander.expand("Bearer ${NOPE}") == .failure(.missingVariable("NOPE")))
    }

    @Test func fallbackAppliesWhenUnsetOrEmpty() {
        #expect(expander.expand("${NOPE:-default}") == .success("default"))
        #expect(expander.expand("${NOPE:-}") == .success(""))
        #expect(expander.expand("${EMPTY:-x}") == .success("x"))
        #expect(expander.expand("${KEY:-x}") == .success("sk-1"))
        #expect(expander.expand("${EMPTY}") == .success(""))
    }

    @Test func dollarEscapesAndLiterals() {
        #expect(expander.expand("$${KEY}") == .success("${KEY}"))
        #expect(expander.expand("costs $5") == .success("costs $5"))
        #expect(expander.expand("^a$") == .success("^a$"))
    }

    @Test func malformedReferencesFail() {
        #expect(expander.expand("${KEY") == .failure(.unterminatedReference))
        #expect(expander.expand("${1BAD}") == .failure(.invalidName("1BAD")))
        #expect(expander.expand("${}") == .failure(.invalidName("")))
    }

    @Test func expansionReachesEveryValueAndNamesTheKey() throws {
        let fixture = try ConfigFixture()
        let configuration = try fixture.load("""
            listen: {port: "${PORT}", address: "${ADDRESS:-127.0.0.1}"}
            \(minimalProviders)
            """, environment: ["PORT": "9443"])
        #expect(configuration.listen.port == 9443)
        #expect(configuration.listen.address == "127.0.0.1")

        let problems = fixture.problems("listen: {port: \"${GATEWAY_PORT}\"}\n" + minimalProviders)
        #expect(problems.map(\.keyPath.description) == ["listen.port"])
        #expect(problems.first?.message.contains("GATEWAY_PORT") == true)
    }

    @Test func everyMissingVariableIsListed() throws {
        let fixture = try ConfigFixture()
        let problems = fixture.problems("""
            providers:
              - {name: a, base_url: "https://${HOST_A}", paths: [/a], credential: {header: x-api-key, value: "${KEY_A}"}}
              - {name: b, base_url: https://b.example, paths: [/b], credential: {header: x-api-key, value: "${KEY_B}"}}
            """)
        #expect(problems.map(\.keyPath.description) == [
            "providers[0].base_url", "providers[0].credential.value", "providers[1].credential.value",
        ])
        #expect(problems.map { $0.message.contains("HOST_A") || $0.message.contains("KEY_A") || $0.message.contains("KEY_B") } == [true, true, true])
    }
}
