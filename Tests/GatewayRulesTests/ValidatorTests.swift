import GatewayRules
import Testing

@Suite struct ValidatorTests {
    @Test func luhn() {
        #expect(Validators.luhn("4620966542870724"))
        #expect(Validators.luhn("4620 9665 4287 0724"))
        #expect(Validators.luhn("4620-9665-4287-0724"))
        #expect(!Validators.luhn("4620966542870725"))
        #expect(!Validators.luhn("4620x966542870724"))
        #expect(!Validators.luhn("7"))
    }

    @Test func paymentCardBrandsAndLengths() {
        #expect(Validators.paymentCard("4297102822512393705"))  // Visa 19
        #expect(Validators.paymentCard("4450528559662"))  // Visa 13
        #expect(Validators.paymentCard("2720924741166777"))  // Mastercard 2-series
        #expect(Validators.paymentCard("375386140831603"))  // Amex
        #expect(Validators.paymentCard("3530233552513772"))  // JCB
        #expect(Validators.paymentCard("36121951072463"))  // Diners 14
        #expect(!Validators.paymentCard("4620966542870725"))  // Luhn-invalid
        #expect(!Validators.paymentCard("9783103461730"))  // ISBN-13, no issuer 9
        #expect(!Validators.paymentCard("0000000000000000"))
        #expect(!Validators.paymentCard("375386140831603".dropLast(0) + "0"))  // Amex must be 15
    }

    @Test func iban() {
        #expect(Validators.iban("DE89370400440532013000"))
        #expect(Validators.iban("DE89 3704 0044 0532 0130 00"))
        #expect(Validators.iban("GB29NWBK60161331926819"))
        #expect(Validators.iban("NO9386011117947"))
        #expect(!Validators.iban("DE89370400440532013001"))  // checksum
        #expect(!Validators.iban("DE8937040044053201300"))  // length for DE
        #expect(!Validators.iban("XX89370400440532013000"))  // unknown country
        #expect(!Validators.iban("DE8937040044053201300!"))
    }

    @Test func usSSN() {
        #expect(Validators.usSSN("536-22-1234"))
        #expect(Validators.usSSN("536221234"))
        #expect(!Validators.usSSN("000-22-1234"))
        #expect(!Validators.usSSN("666-22-1234"))
        #expect(!Validators.usSSN("912-22-1234"))
        #expect(!Validators.usSSN("536-00-1234"))
        #expect(!Validators.usSSN("536-22-0000"))
        #expect(!Validators.usSSN("123-45-6789"))
        #expect(!Validators.usSSN("5362212345"))
    }

    @Test func caSIN() {
        #expect(Validators.caSIN("113486047"))
        #expect(Validators.caSIN("470-578-626"))
        #expect(!Validators.caSIN("470-578-627"))  // Luhn
        #expect(!Validators.caSIN("046454286"))  // first digit 0
        #expect(!Validators.caSIN("11348604"))
    }

    @Test func abaRouting() {
        #expect(Validators.abaRouting("021000021"))
        #expect(Validators.abaRouting("011401533"))
        #expect(!Validators.abaRouting("021000022"))
        #expect(!Validators.abaRouting("991000021"))  // prefix outside Federal Reserve ranges
    }

    @Test func entropy() {
        #expect(Validators.shannonEntropy("aaaaaaaa") == 0)
        #expect(abs(Validators.shannonEntropy("abcd") - 2) < 1e-9)
        #expect(Validators.shannonEntropy("379jGnXMBa79OMjRcrWDeSB3XcYEbE5xqp7w2DNu") > 4.5)
        #expect(RuleValidator(ruleFileName: "entropy: 3.5") == .entropy(3.5))
        #expect(RuleValidator.entropy(3.0).accepts("yTBhyMn0ftiqpWMX"))
        #expect(!RuleValidator.entropy(3.0).accepts("passpass"))
        #expect(RuleValidator(ruleFileName: "secret_value: 3.0") == .secretValue(3.0))
        #expect(RuleValidator.secretValue(3.0).accepts("yTBhyMn0ftiqpWMX"))
        #expect(!RuleValidator.secretValue(3.0).accepts("yTBhyMnQftiqpWMX"), "no digit")
        #expect(!RuleValidator.secretValue(3.0).accepts("8317/2645-0912.73"), "no letter")
    }

    @Test func jwt() {
        let good = "eyJhbGciOiAiUlMyNTYiLCAidHlwIjogIkpXVCJ9.eyJzdWIiOiAidXNlci03NzgxIn0.CshSiEjG86Cg_QrZxuHgBSR1k5lm"
        #expect(Validators.jwt(good[...]))
        #expect(Validators.jwt("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."))  // alg none, empty signature
        #expect(!Validators.jwt("eyJ0eXAiOiAiSldUIn0.eyJzdWIiOiAidXNlci03NzgxIn0.sig"))  // no alg
        #expect(!Validators.jwt("eyJhbGciOiAiUlMyNTYi.eyJzdWIi"))  // two parts
        #expect(!Validators.jwt("notbase64!.eyJzdWIi.sig"))
    }

    @Test func phone() {
        #expect(Validators.phone("+44 20 7946 0958"))
        #expect(Validators.phone("(415) 555-0132"))
        #expect(!Validators.phone("+1 23"))
        #expect(!Validators.phone("+1234567890123456"))
        #expect(!Validators.phone("111-111-1111"))
    }
}
