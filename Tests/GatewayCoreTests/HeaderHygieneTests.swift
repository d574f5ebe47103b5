import NIOHTTP1
import Testing
@testable import GatewayCore

@Suite("Header hygiene: the names Connection lists")
struct HeaderHygieneTests {
    @Test("Tokens of every Connection field, trimmed and lower-cased; keep-alive and empty tokens left out")
    func connectionListed() {
        let headers = HTTPHeaders([
            ("Connection", " Keep-Alive ,X-One,,\tx-TWO\t"), ("X-One", "a"), ("connection", "close"),
            ("CONNECTION", ","),
        ])
        #expect(HeaderHygiene.connectionListed(headers) == ["x-one", "x-two", "close"])
    }

    @Test("Nothing listed when Connection names only keep-alive, or is absent")
    func nothingListed() {
        #expect(HeaderHygiene.connectionListed(HTTPHeaders([("Connection", "keep-alive")])).isEmpty)
        #expect(HeaderHygiene.connectionListed(HTTPHeaders([("Content-Type", "text/plain")])).isEmpty)
    }
}
