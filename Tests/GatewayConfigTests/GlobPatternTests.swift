import GatewayConfig
import Testing

@Suite struct GlobPatternTests {
    @Test(arguments: [
        ("*", "", true), ("*", "anything/at/all", true),
        ("gpt-4o*", "gpt-4o", true), ("gpt-4o*", "gpt-4o-mini", true), ("gpt-4o*", "gpt-4", false),
        ("claude-?-sonnet", "claude-3-sonnet", true), ("claude-?-sonnet", "claude-35-sonnet", false),
        ("/v1/chat/*", "/v1/chat/completions", true), ("/v1/chat/*", "/v1/chat", false),
        ("*mini*", "gpt-4o-mini-2024", true), ("a*b*c", "aXbYbZc", true), ("a*b*c", "aXbYbZ", false),
        ("GPT-*", "gpt-4o", false), ("?", "é", true), ("*.*.*", "a.b", false),
        ("a?c", "aéc", true), ("a??c", "aéc", false), ("modèle-*", "modèle-1", true), ("mod?le", "modèle", true),
    ])
    func matches(pattern: String, text: String, expected: Bool) throws {
        #expect(try GlobPattern(pattern).matches(text) == expected)
    }

    @Test func refusesUnsupportedSyntax() {
        #expect(throws: GlobPattern.Failure.empty) { try GlobPattern("") }
        #expect(throws: GlobPattern.Failure.unsupportedCharacter("[")) { try GlobPattern("gpt-[45]*") }
        #expect(throws: GlobPattern.Failure.unsupportedCharacter("{")) { try GlobPattern("{a,b}") }
        #expect(throws: GlobPattern.Failure.unsupportedCharacter("\\")) { try GlobPattern("a\\*") }
        #expect(throws: GlobPattern.Failure.controlCharacter) { try GlobPattern("a\nb") }
    }

    @Test func manyStarsStayFast() throws {
        let glob = try GlobPattern(String(repeating: "*a", count: 30) + "b")
        let clock = ContinuousClock()
        let elapsed = clock.measure { _ = glob.matches(String(repeating: "a", count: 5_000)) }
        #expect(elapsed < .seconds(2))
    }
}
