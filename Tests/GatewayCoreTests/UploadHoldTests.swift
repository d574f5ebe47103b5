@testable import GatewayCore
import GatewayConfig
import GatewayRules
import NIOCore
import Synchronization
import Testing

/// Uploads API parts held on the gateway and inspected as one file at completion.
@Suite struct UploadHoldTests {
    static let key = "AKIAQ3EGKZ7L5WRXH2PD"

    @Test func partsAreSealedTakenInOrderOnlyByTheirOwnerAndBounded() throws {
        let refusals = Atomic<Int>(0)
        let held = HeldUploads(capacity: 100, onFull: { refusals.add(1, ordering: .relaxed) })
        let first = try held.hold(Array("abc".utf8), upload: "up_1", owner: "alice")
        let second = try held.hold(Array("def".utf8), upload: "up_1", owner: "alice")
        #expect(held.heldBytes == 6)
        #expect(throws: HeldUploads.Failure.unknownPart(first)) { try held.take([first], upload: "up_1", owner: "mallory") }
        #expect(throws: HeldUploads.Failure.unknownPart(first)) { try held.take([first], upload: "up_2", owner: "alice") }
        #expect(try held.take([second, first], upload: "up_1", owner: "alice") == Array("defabc".utf8))
        #expect(held.heldBytes == 0)
        #expect(throws: HeldUploads.Failure.unknownPart(first)) { try held.take([first], upload: "up_1", owner: "alice") }
        #expect(throws: HeldUploads.Failure.full) { try held.hold([UInt8](repeating: 1, count: 101), upload: "u", owner: "a") }
        #expect(refusals.load(ordering: .relaxed) == 1, "a refusal for want of room is counted")

        let aging = HeldUploads(capacity: 100, lifetime: .seconds(60))
        _ = try aging.hold([1, 2, 3], upload: "u", owner: "a")
        #expect(aging.purgeExpired(now: .now + .seconds(61)) == 1)
        #expect(aging.heldBytes == 0)
    }

    static let inspector = BodyInspector(
        rules: try! RuleLoader.load(directory: AccessFilterTests.rulesDirectory), fingerprintKey: Array(repeating: 7, count: 32),
        fieldNames: ["model"]
    )

    func filter(_ held: HeldUploads) -> ClassificationFilter {
        var filter = ClassificationFilter(inspector: Self.inspector, deadlineMilliseconds: 1000, policyForRequest: { _ in .default })
        filter.heldUploads = held
        return filter
    }

    func send(_ filter: ClassificationFilter, path: String, body: [UInt8], type: String) -> (GatewayError?, RequestContext) {
        var context = RequestContext(requestID: "req_t", method: "POST", target: path, clientAddress: nil, tls: nil)
        context.identity = CallerIdentity(user: "alice", role: "engineer")
        var request = RequestBody(bytes: ByteBuffer(bytes: body), contentType: type, contentEncoding: nil)
        do throws(GatewayError) {
            try filter.inspectBody(&request, context: &context)
            return (nil, context)
        } catch {
            return (error, context)
        }
    }

    func part(_ data: String) -> [UInt8] {
        Array("--b\r\nContent-Disposition: form-data; name=\"data\"; filename=\"upload\"\r\nContent-Type: application/octet-stream\r\n\r\n\(data)\r\n--b--\r\n".utf8)
    }

    func partID(_ context: RequestContext) -> String? {
        context.delivery.localAnswer?.json.split(separator: "\"").dropFirst(3).first.map(String.init)
    }

    @Test func aValueSplitAcrossPartsIsFoundInTheAssembledFile() throws {
        let filter = self.filter(HeldUploads(capacity: 1 << 20))
        let cut = 8
        let (e1, first) = self.send(filter, path: "/v1/uploads/up_9/parts", body: self.part("name,key\nops," + String(Self.key.prefix(cut))),
                                    type: "multipart/form-data; boundary=b")
        let (e2, second) = self.send(filter, path: "/v1/uploads/up_9/parts", body: self.part(String(Self.key.dropFirst(cut)) + "\n"),
                                     type: "multipart/form-data; boundary=b")
        #expect(e1 == nil && e2 == nil, "each half alone is clean")
        let ids = try [#require(self.partID(first)), #require(self.partID(second))]
        #expect(ids.allSatisfy { $0.hasPrefix("part_gw_") })
        #expect(first.delivery.localAnswer?.reason == .uploadPartHeld)
        let complete = Array(#"{"part_ids":["\#(ids[0])","\#(ids[1])"]}"#.utf8)
        let (error, context) = self.send(filter, path: "/v1/uploads/up_9/complete", body: complete, type: "application/json")
        #expect(error?.kind == .blockedByPolicy)
        #expect(context.decision?.isBlocked == true)
        #expect(context.delivery.upload == nil)
    }

    @Test func aCleanAssembledFileIsSentBeforeTheCompletion() throws {
        let filter = self.filter(HeldUploads(capacity: 1 << 20))
        let (_, first) = self.send(filter, path: "/v1/uploads/up_3/parts", body: self.part("region,sales\nnorth,"),
                                   type: "multipart/form-data; boundary=b")
        let (_, second) = self.send(filter, path: "/v1/uploads/up_3/parts", body: self.part("12\n"), type: "multipart/form-data; boundary=b")
        let ids = try [#require(self.partID(first)), #require(self.partID(second))]
        let complete = Array(#"{"part_ids":["\#(ids[0])","\#(ids[1])"],"md5":"x"}"#.utf8)
        let (error, context) = self.send(filter, path: "/v1/uploads/up_3/complete", body: complete, type: "application/json")
        #expect(error == nil)
        #expect(context.delivery.upload == Array("region,sales\nnorth,12\n".utf8))
        // The completion then names the one part the gateway sends, keeping the other members.
        let rewritten = try #require(ProxyHandler.completion(ByteBuffer(bytes: complete), partID: "part_real"))
        #expect(String(buffer: rewritten) == #"{"md5":"x","part_ids":["part_real"]}"#)
        // A part not held here cannot be completed.
        let (unknown, _) = self.send(filter, path: "/v1/uploads/up_3/complete", body: complete, type: "application/json")
        #expect(unknown?.kind == .badRequest)
    }

    @Test func partsAreNotSampledAndAFileThePolicyWouldHoldIsRefused() throws {
        // A role that may send personal data (pii: allow), with personal data escalated: the file alone would pass.
        var filter = ClassificationFilter(
            inspector: Self.inspector, deadlineMilliseconds: 1000,
            policyForRequest: { _ in CategoryPolicy.default.overriding([.pii: CategoryTreatment(.allow)]) })
        filter.heldUploads = HeldUploads(capacity: 1 << 20)
        filter.escalation = ReviewPolicy.Escalation(categories: ["pii"])
        var (error, part) = self.send(filter, path: "/v1/uploads/up_5/parts",
                                      body: self.part("contact dana.whitfield@acme-widgets.co.uk\n"), type: "multipart/form-data; boundary=b")
        #expect(error == nil, "a part is held, not judged")
        // A held part is kept raw until completion: it is never a sample, whatever the share.
        var body = RequestBody(bytes: ByteBuffer(bytes: Array("raw part".utf8)), contentType: nil, contentEncoding: nil)
        var none: Void = ()
        try ReviewSampling(shares: SamplingShares(defaultShare: 1)).inspectBody(&body, context: &part, state: &none)
        #expect(part.sampledBody == nil)
        let id = try #require(self.partID(part))
        let (refusal, context) = self.send(filter, path: "/v1/uploads/up_5/complete",
                                           body: Array(#"{"part_ids":["\#(id)"]}"#.utf8), type: "application/json")
        #expect(refusal?.kind == .blockedByPolicy, "an upload cannot wait in the queue: refused, not held")
        #expect(context.escalation == nil && context.delivery.upload == nil)
    }
}
