import GatewayCrypto
import Testing

/// The reused MAC and hash contexts the log seals with give exactly what the one-shot functions give, on every use.
@Suite("Serial HMAC and SHA-256 contexts")
struct SerialDigestTests {
    private let inputs: [[UInt8]] = [
        [], Array("a".utf8), Array(repeating: 0x41, count: 63), Array(repeating: 0x42, count: 64),
        Array((0..<1500).map { UInt8(truncatingIfNeeded: $0 &* 31) }), Array("a".utf8),
    ]

    @Test("Each MAC equals the one-shot HMAC, also after many uses of the same context")
    func macMatchesOneShot() {
        let key = Array("a key of the decision log".utf8)
        let serial = SerialHMAC(key: HMACKey(key))
        for _ in 0..<3 {
            for input in self.inputs {
                #expect(serial.mac(input) == Crypto.hmacSHA256(key: key, data: input))
            }
        }
        // RFC 4231, test case 2.
        let rfc = SerialHMAC(key: HMACKey(Array("Jefe".utf8)))
        #expect(Crypto.hex(rfc.mac(Array("what do ya want for nothing?".utf8)))
            == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test("Each digest equals the one-shot SHA-256, also after many uses of the same context")
    func digestMatchesOneShot() {
        let serial = SerialSHA256()
        for _ in 0..<3 {
            for input in self.inputs { #expect(serial.digest(input) == Crypto.sha256(input)) }
        }
        #expect(Crypto.hex(serial.digest(Array("abc".utf8)))
            == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
