import Testing
@testable import GatewayRules

/// The deadline is read once per `RequestInspection.clockCheckBytes` of text, not before every text: counted here,
/// since a deadline that passes mid-inspection cannot be placed deterministically.
@Suite("Inspection deadline cadence")
struct InspectionDeadlineCadenceTests {
    private func checks(afterTextsOf sizes: [Int]) -> Int {
        let rules = TestSupport.defaultRules
        return rules.withSession { session in
            var request = RequestInspection(
                ruleSet: rules, policy: .default, fingerprintMAC: TestSupport.inspector.fingerprintMAC, session: session,
                deadline: .after(milliseconds: 60_000)
            )
            for size in sizes {
                let text = [UInt8](repeating: UInt8(ascii: "a"), count: size)
                _ = try? text.withUnsafeBufferPointer { buffer in try request.inspect(buffer, location: { "$" }) }
            }
            return request.clockChecks
        }
    }

    @Test("Once before the first text, then once per 16 KiB of text, whatever the texts' sizes")
    func cadence() {
        let step = RequestInspection.clockCheckBytes
        #expect(self.checks(afterTextsOf: [10]) == 1)
        #expect(self.checks(afterTextsOf: Array(repeating: 12, count: 200)) == 1, "a chat body's dozen short texts")
        #expect(self.checks(afterTextsOf: Array(repeating: 1024, count: 40)) == 3)  // at 0, 16 and 32 KiB
        #expect(self.checks(afterTextsOf: [step + 1, 5, 5]) == 2)
        #expect(self.checks(afterTextsOf: [step - 1, 1, 5]) == 2)
        #expect(self.checks(afterTextsOf: [step - 1, 5]) == 1)
    }
}

/// Issue 12, defect 3: a deadline that passed while the last (or only) text was scanned was not noticed, so a
/// message of 7 MiB of `@` was allowed after two seconds. The decision is now taken only if the deadline still holds
/// when inspection ends, and the scanner reads the clock inside its loops too.
@Suite("Inspection deadline after the last text")
struct InspectionDeadlineAfterLastTextTests {
    static func hostileBody(_ unit: String) -> [UInt8] {
        let text = String(repeating: unit, count: (7 << 20) / unit.utf8.count)
        return Array(#"{"model":"m","messages":[{"role":"user","content":""#.utf8) + Array(text.utf8) + Array(#""}]}"#.utf8)
    }

    @Test("A deadline that passes during the only text blocks the request", arguments: ["@", "a@", "token="])
    func deadlinePassingInTheLastTextBlocks(unit: String) {
        // Scanning 7 MiB takes tens of milliseconds at the least; the deadline is 1 ms away.
        let body = Self.hostileBody(unit)
        #expect(throws: InspectionError.deadlineExceeded) {
            _ = try TestSupport.inspector.inspect(
                body: body, contentType: "application/json", contentEncoding: nil, deadline: .after(milliseconds: 1)
            )
        }
    }

    @Test("Head-side texts obey the deadline as well")
    func unredactableTextsObeyTheDeadline() {
        let text = [UInt8](repeating: UInt8(ascii: "@"), count: 7 << 20)
        #expect(throws: InspectionError.deadlineExceeded) {
            _ = try TestSupport.inspector.inspect(unredactable: [("query", text)], deadline: .after(milliseconds: 1))
        }
    }
}
