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
