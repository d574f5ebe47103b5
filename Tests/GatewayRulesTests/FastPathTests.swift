import GatewayCrypto
import GatewayRules
import Testing

/// The fast paths must give exactly what the straightforward code gives.
@Suite struct FastPathTests {
    /// The SIMD pair filter reports exactly the Aho-Corasick automaton's keyword hits.
    @Test func pairFilterEqualsAutomaton() {
        let keywords = TestSupport.defaultRules.rules.map { $0.anchor == .keywords ? $0.keywords : [] }
        let prefilter = KeywordPrefilter(keywords: keywords)
        let fragments = keywords.flatMap { $0 } + keywords.flatMap { $0 }.map { $0.uppercased() } + [
            "the ", "token", "TOKEN", " ", "\n", "=", ":", "_", "-", ".", "a", "s", "k", "e", "y", "j", "3", "é", "\u{0}",
            "secret_key", "Password", "https://", "AKIA", "eyJ", "xoxb-", "glpat-", "-----BEGIN",
        ]
        var generator = SystemRandomNumberGenerator()
        for round in 0..<400 {
            var text: [UInt8] = []
            let pieces = Int.random(in: 0...(round % 10 == 0 ? 2000 : 60), using: &generator)
            for _ in 0..<pieces {
                if Bool.random(using: &generator) {
                    text += Array(fragments.randomElement(using: &generator)!.utf8)
                } else {
                    text.append(UInt8.random(in: 0...255, using: &generator))
                }
            }
            text.withUnsafeBufferPointer { buffer in
                let fast = prefilter.keywordHits(in: buffer).map { [$0.rule, $0.end] }
                let reference = prefilter.automatonHits(in: buffer).map { [$0.rule, $0.end] }
                // Same hits; the order inside one end position does not matter.
                #expect(fast.sorted { $0.lexicographicallyPrecedes($1) } == reference.sorted { $0.lexicographicallyPrecedes($1) })
                #expect(fast.map { $0[1] } == reference.map { $0[1] })
            }
        }
    }

    /// twilio-api-key runs anchored at the 'S' before each 'K' (anchor + start_run): it must report exactly the
    /// matches of its pattern run over the whole text.
    @Test func twilioAnchoredStartsEqualWholeTextScan() throws {
        let rules = TestSupport.defaultRules
        let index = try #require(rules.rules.firstIndex { $0.id == "twilio-api-key" })
        let pattern = rules.rules[index].pattern
        let fragments = ["SK", "S", "K", "SSK", "xSK", "SKSK", "54bc21cb514074361021f893ae31c696", " SK54bc21cb514074361021f893ae31c696 ", "54bc21cb", "0", "a", "F",
                         " ", "=", "\n", "TWILIO_API_KEY=", "sk", "@", "-"]
        var generator = SystemRandomNumberGenerator()
        let session = MatchSession()
        var seen = 0
        for _ in 0..<3000 {
            var text: [UInt8] = []
            for _ in 0..<Int.random(in: 1...60, using: &generator) { text += Array(fragments.randomElement(using: &generator)!.utf8) }
            let fast = try rules.scan(text).filter { $0.ruleIndex == index }.map(\.range)
            var expected: [Range<Int>] = []
            try text.withUnsafeBufferPointer { buffer in
                var start = 0
                while start < buffer.count, let groups = try pattern.firstMatch(in: buffer, from: start, session: session),
                    let whole = groups[0]
                {
                    start = whole.isEmpty ? whole.upperBound + 1 : whole.upperBound
                    expected.append(whole)
                }
            }
            seen += expected.count
            #expect(fast == expected, "text: \(String(decoding: text, as: UTF8.self).debugDescription)")
        }
        #expect(seen > 100)
    }

    /// The prepared HMAC key gives the same fingerprints as one-shot HMAC-SHA256.
    @Test func fingerprintMatchesOneShotHMAC() {
        for value in ["", "jo@acme.com", "AKIAQ3EGKZ7L5WRXH2PD", String(repeating: "é", count: 300)] {
            let expected = String(Crypto.hex(Crypto.hmacSHA256(key: TestSupport.fingerprintKey, data: Array(value.utf8))).prefix(16))
            #expect(TestSupport.inspector.fingerprint(of: value) == expected)
        }
        let key = HMACKey(Array("k".utf8))
        #expect(key.mac(Array("data".utf8)) == Crypto.hmacSHA256(key: Array("k".utf8), data: Array("data".utf8)))
        let empty = HMACKey([UInt8]())
        #expect(empty.mac(Array("data".utf8)) == Crypto.hmacSHA256(key: [UInt8](), data: Array("data".utf8)))
    }
}
