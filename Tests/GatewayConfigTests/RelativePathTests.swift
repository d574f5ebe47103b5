import Foundation
import GatewayConfig
import Testing

@Suite struct RelativePathTests {
    @Test func pathsResolveAgainstTheConfigurationDirectoryNotTheWorkingDirectory() throws {
        let fixture = try ConfigFixture(files: ["conf/tls/server.pem", "conf/tls/server.key", "conf/policies/main.yaml"])
        try fixture.write("conf/policies/main.yaml", ConfigFixture.basicPolicy)
        try FileManager.default.createDirectory(atPath: fixture.path("conf/rules"), withIntermediateDirectories: true)
        try fixture.write("conf/gateway.yaml", """
            listen: {tls: {certificate: tls/server.pem, key: tls/server.key}}
            policy: {file: policies/main.yaml}
            keys: {file: ../state/keys.json}
            audit: {directory: /var/tmp/absolute-audit}
            \(minimalProviders)
            """)
        let configuration = try ConfigLoader.load(path: fixture.path("conf/gateway.yaml"), environment: [:])
        #expect(configuration.listen.tls.certificate.written == "tls/server.pem")
        #expect(configuration.listen.tls.certificate.absolute == fixture.path("conf/tls/server.pem"))
        #expect(configuration.policy.file.absolute == fixture.path("conf/policies/main.yaml"))
        #expect(configuration.rules.directory.absolute == fixture.path("conf/rules"))
        #expect(configuration.keys.file.written == "../state/keys.json")
        #expect(configuration.keys.file.absolute == fixture.path("state/keys.json"))
        #expect(configuration.audit.directory.absolute == "/var/tmp/absolute-audit")
        #expect(configuration.file.absolute == fixture.path("conf/gateway.yaml"))
    }

    @Test func policyProblemsNameThePolicyFileNextToTheConfiguration() throws {
        let fixture = try ConfigFixture(policy: "roles: {engineer: {providers: [nope], models: '*'}}\n")
        let problems = fixture.problems(minimalProviders)
        #expect(problems.count == 1)
        #expect(problems.first?.file == fixture.path("policy.yaml"))
        #expect(problems.first?.keyPath.description == "roles.engineer.providers[0]")
    }
}
