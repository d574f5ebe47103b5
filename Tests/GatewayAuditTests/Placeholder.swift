import Testing

@Test func auditPlaceholder() { #expect(Bool(true)) }
