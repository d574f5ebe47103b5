import GatewayConfig
import Testing

@Suite("audit settings")
struct AuditSettingsTests {
    static let providers = """
        providers:
          - {name: openai, base_url: "https://api.openai.com", paths: [/v1/chat/completions], credential: {header: Authorization, value: "Bearer x"}}
        """

    @Test func decisionRecordsAreOnByDefault() throws {
        let fixture = try ConfigFixture()
        let configuration = try fixture.load(Self.providers)
        #expect(configuration.audit.enabled)
        #expect(configuration.audit.directory.absolute == fixture.path("var/audit"))
    }

    @Test func theyCanBeTurnedOffOnlyExplicitly() throws {
        let fixture = try ConfigFixture()
        #expect(try fixture.load(Self.providers + "\naudit: {enabled: false}").audit.enabled == false)
        #expect(fixture.problemPaths(Self.providers + "\naudit: {enabled: maybe}") == ["audit.enabled"])
    }

    @Test func recordsAreFsyncedBeforeForwardingUnlessAnIntervalIsChosen() throws {
        let fixture = try ConfigFixture()
        #expect(try fixture.load(Self.providers).audit.syncIntervalMilliseconds == nil)
        #expect(try fixture.load(Self.providers + "\naudit: {sync: interval}").audit.syncIntervalMilliseconds == 50)
        #expect(try fixture.load(Self.providers + "\naudit: {sync: interval, interval_ms: 20}").audit.syncIntervalMilliseconds == 20)
        #expect(fixture.problemPaths(Self.providers + "\naudit: {sync: sometimes}") == ["audit.sync"])
    }
}
