import GatewayRules
import Testing

@Suite struct NormalizationTests {
    @Test func asciiTakesTheFastPath() {
        let bytes = Array("plain ascii text, nothing to fold".utf8)
        #expect(bytes.withUnsafeBufferPointer { TextNormalizer.normalize($0) } == nil)
    }

    @Test func zeroWidthCharactersAreRemovedAndSpansMapBack() {
        let original = "key AKIA\u{200B}L2YY\u{2060}5HLGNUZLUMHX end"
        let normalized = TextNormalizer.normalize(original)
        let text = String(decoding: normalized.bytes, as: UTF8.self)
        #expect(text == "key AKIAL2YY5HLGNUZLUMHX end")
        let start = 4
        let span = normalized.originalRange(of: start..<(start + 20))
        let bytes = Array(original.utf8)
        #expect(String(decoding: bytes[span], as: UTF8.self) == "AKIA\u{200B}L2YY\u{2060}5HLGNUZLUMHX")
    }

    @Test func fullwidthFoldsToASCIIWithOffsets() {
        let original = "card ４６２０ 9665"
        let normalized = TextNormalizer.normalize(original)
        #expect(String(decoding: normalized.bytes, as: UTF8.self) == "card 4620 9665")
        let span = normalized.originalRange(of: 5..<9)
        #expect(String(decoding: Array(original.utf8)[span], as: UTF8.self) == "４６２０")
    }

    @Test func tagCharactersBecomeASCII() {
        let hidden = String(String.UnicodeScalarView("ghp_".unicodeScalars.map { Unicode.Scalar($0.value + 0xE0000)! }))
        let normalized = TextNormalizer.normalize("x" + hidden + "y")
        #expect(String(decoding: normalized.bytes, as: UTF8.self) == "xghp_y")
    }

    @Test func softHyphenBOMAndHomoglyphs() {
        let normalized = TextNormalizer.normalize("s\u{00AD}k\u{FEFF}-\u{0430}nt")
        #expect(String(decoding: normalized.bytes, as: UTF8.self) == "sk-ant")
    }

    @Test func otherScriptsAreKept() {
        let text = "日本語のテキスト"
        #expect(String(decoding: TextNormalizer.normalize(text).bytes, as: UTF8.self) == text)
    }

    @Test func removedCharactersInsideAFindingAreRedactedToo() throws {
        let body = #"{"m":"mail jo.smith@ac\u200bme.com now"}"#
        let decision = try TestSupport.inspector.inspect(body: Array(body.utf8), contentType: "application/json",
                                                         contentEncoding: nil)
        guard case .redact(let out, _) = decision.verdict else {
            Issue.record("expected redact, got \(decision.verdict)")
            return
        }
        #expect(String(decoding: out, as: UTF8.self) == #"{"m":"mail [EMAIL_1] now"}"#)
    }
}
