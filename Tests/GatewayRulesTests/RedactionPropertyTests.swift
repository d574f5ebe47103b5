import Foundation
import GatewayRules
import Testing

/// Property-style: random JSON documents with sensitive values planted at random places. After redaction the body
/// must parse, have the same structure (same keys, array lengths, value kinds; non-string values equal), contain no
/// planted value, and keep strings that held nothing sensitive unchanged.
@Suite struct RedactionPropertyTests {
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 33
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
    }

    static let planted = [
        "jo.smith@acme-widgets.com", "+44 20 7946 0958", "4620 9665 4287 0724", "536-22-1234", "DE89370400440532013000",
        "(415) 555-0132", "113486047",
    ]
    static let fillers = [
        "hello", "café ☕", "line\nbreak", "quote \" and \\ slash", "tab\there", "v1.2.3", "2025-01-02", "日本語",
        "emoji 🎉", "\u{1}ctl", "order 4620966542870725",
    ]

    func randomValue(_ gen: inout Generator, depth: Int, planted: inout [String]) -> Any {
        let choice = depth > 3 ? gen.below(4) : gen.below(7)
        switch choice {
        case 0: return gen.below(1000) - 500
        case 1: return gen.below(2) == 0
        case 2: return NSNull()
        case 3:
            if gen.below(3) == 0 {
                let value = gen.pick(Self.planted)
                planted.append(value)
                return gen.pick(Self.fillers) + " " + value + " " + gen.pick(Self.fillers)
            }
            return gen.pick(Self.fillers)
        case 4, 5:
            var object: [String: Any] = [:]
            for index in 0..<gen.below(4) { object["k\(index)_\(gen.below(9))"] = randomValue(&gen, depth: depth + 1, planted: &planted) }
            return object
        default:
            return (0..<gen.below(4)).map { _ in randomValue(&gen, depth: depth + 1, planted: &planted) }
        }
    }

    /// Same shape: objects with the same keys, arrays of the same length, strings where strings were.
    func sameShape(_ a: Any, _ b: Any) -> Bool {
        switch (a, b) {
        case (let x as [String: Any], let y as [String: Any]):
            return Set(x.keys) == Set(y.keys) && x.keys.allSatisfy { sameShape(x[$0]!, y[$0]!) }
        case (let x as [Any], let y as [Any]):
            return x.count == y.count && zip(x, y).allSatisfy { sameShape($0, $1) }
        case (let x as String, let y as String):
            return Self.planted.contains { x.contains($0) } || x == y
        case (is NSNull, is NSNull): return true
        case (let x as NSNumber, let y as NSNumber): return x == y
        default: return false
        }
    }

    @Test func redactionKeepsJSONValidAndStructureIdentical() throws {
        var gen = Generator(state: 0x5EED)
        var redactedCount = 0
        for _ in 0..<600 {
            var planted: [String] = []
            var root: [String: Any] = ["model": "m"]
            root["messages"] = randomValue(&gen, depth: 0, planted: &planted)
            root["extra"] = randomValue(&gen, depth: 1, planted: &planted)
            let options: JSONSerialization.WritingOptions = gen.below(2) == 0 ? [.prettyPrinted] : []
            let body = [UInt8](try JSONSerialization.data(withJSONObject: root, options: options))
            let decision = try TestSupport.inspector.inspect(body: body, contentType: "application/json", contentEncoding: nil)
            #expect(!decision.isBlocked)
            guard let forwarded = decision.forwardedBody(original: body) else { continue }
            if planted.isEmpty {
                #expect(forwarded == body)
                continue
            }
            redactedCount += 1
            let reparsed = try JSONSerialization.jsonObject(with: Data(forwarded))
            #expect(sameShape(root, reparsed))
            let text = String(decoding: forwarded, as: UTF8.self)
            for value in planted {
                #expect(!text.contains(value), "planted value survived")
            }
        }
        #expect(redactedCount > 60)
    }

    @Test func sameValueSamePlaceholderWithinARequest() throws {
        let json = #"{"a":"x jo@acme.com y","b":["jo@acme.com","ann@acme.com"],"c":"ann@acme.com jo@acme.com"}"#
        let decision = try TestSupport.inspector.inspect(body: Array(json.utf8), contentType: "application/json", contentEncoding: nil)
        guard case .redact(let body, let dropped) = decision.verdict else {
            Issue.record("expected redact")
            return
        }
        #expect(!dropped)
        #expect(String(decoding: body, as: UTF8.self)
            == #"{"a":"x [EMAIL_1] y","b":["[EMAIL_1]","[EMAIL_2]"],"c":"[EMAIL_2] [EMAIL_1]"}"#)
    }

    @Test func cardsAreMaskedKeepingTheLastFour() throws {
        let decision = try TestSupport.inspector.inspect(text: "pay 4620-9665-4287-0724 now")
        guard case .redact(let body, _) = decision.verdict else {
            Issue.record("expected redact")
            return
        }
        #expect(String(decoding: body, as: UTF8.self) == "pay ****-****-****-0724 now")
        #expect(decision.findings.first?.preview == "…0724")
    }
}
