import Foundation
@testable import GatewayCore
import GatewayConfig
import GatewayRules
import NIOCore
import Testing

/// The request-level document rules the HTTP layer adds to inspection: the longer deadline for bodies that may
/// carry documents.
@Suite struct DocumentPolicyTests {
    static let inspector = BodyInspector(
        rules: try! RuleLoader.load(directory: AccessFilterTests.rulesDirectory), fingerprintKey: Array(repeating: 7, count: 32),
        fieldNames: ["model"]
    )

    func inspect(path: String, json: String) -> (GatewayError?, RequestContext) {
        let filter = ClassificationFilter(inspector: Self.inspector, deadlineMilliseconds: 1000, policyForRequest: { _ in .default })
        var context = RequestContext(requestID: "req_test", method: "POST", target: path, clientAddress: nil, tls: nil)
        var body = RequestBody(bytes: ByteBuffer(string: json), contentType: "application/json", contentEncoding: nil)
        do throws(GatewayError) {
            try filter.inspectBody(&body, context: &context)
            return (nil, context)
        } catch {
            return (error, context)
        }
    }

    @Test func bodiesThatMayCarryDocumentsGetTheDocumentDeadline() {
        func body(_ type: String?, bytes: Int = 10) -> RequestBody {
            RequestBody(bytes: ByteBuffer(repeating: 0x20, count: bytes), contentType: type, contentEncoding: nil)
        }
        #expect(ClassificationFilter.mayCarryDocuments(body("multipart/form-data; boundary=x")))
        #expect(ClassificationFilter.mayCarryDocuments(body("application/pdf")))
        #expect(ClassificationFilter.mayCarryDocuments(body("application/json", bytes: 300 * 1024)))
        #expect(!ClassificationFilter.mayCarryDocuments(body("application/json")))
        #expect(!ClassificationFilter.mayCarryDocuments(body(nil)))
    }
}

/// Inspection failures each map to one status, decided here in Core (the rules module knows no HTTP).
@Suite struct InspectionStatusTests {
    @Test func everyInspectionErrorHasItsStatus() {
        let cases: [(InspectionError, Int)] = [
            (.invalidBody("x"), 400), (.tooLarge("x"), 413), (.unsupportedEncoding("br"), 415),
            (.unsupportedMediaType("x"), 415), (.deadlineExceeded, 403),
            (.engineFailure(ruleID: "r", .limitExceeded(code: -47, message: "match limit")), 403),
        ]
        for (error, status) in cases {
            #expect(Int(ClassificationFilter.gatewayError(for: error).status.code) == status, "\(error)")
        }
    }

    @Test func roleAndRuleActionsConvertCaseByCase() {
        for action in RoleCategoryAction.allCases {
            #expect(RoleCategoryAction(CategoryAction(action)) == action)
            #expect(CategoryAction(action).rawValue == action.rawValue)
        }
    }
}

/// The reasons records carry are a closed set; this list is the one docs/audit.md documents.
@Suite struct ReasonCodeTests {
    @Test func theSetOfReasonsIsPinned() {
        #expect(Reason.allCases.map(\.rawValue) == [
            "clean", "rule_match.allowed", "rule_match.redacted", "document.uninspected", "review.released",
            "upload.part_held", "rule_match.blocked", "review.held", "auth.refused", "access.forbidden",
            "access.rate_limited",
            "client.bad_request", "client.not_found", "client.method_not_allowed", "client.payload_too_large",
            "client.unsupported_media_type", "client.headers_too_large", "client.expectation_failed",
            "client.not_implemented", "upstream.unavailable", "upstream.timeout", "upstream.protocol",
            "internal.failure", "internal.shutting_down", "internal.audit_unavailable", "internal.overloaded",
        ])
        // Each code is already in the record's alphabet: `ReasonCode` keeps it as it is.
        for reason in Reason.allCases { #expect(reason.code.rawValue == reason.rawValue) }
        #expect(Reason(GatewayError(.upstreamTimeout, "x")) == .upstreamTimeout)
    }

    @Test func docsAuditListsEveryReason() throws {
        let doc = try String(contentsOf: RuntimeKeysTests.repositoryRoot.appendingPathComponent("docs/audit.md"), encoding: .utf8)
        for reason in Reason.allCases { #expect(doc.contains("`\(reason.rawValue)`"), "\(reason.rawValue) undocumented") }
    }
}

@Suite struct OffLoopAdmissionTests {
    @Test func releaseTokensLargeBodiesAndDocumentsAreAdmittedOffTheEventLoop() {
        func body(_ text: String, type: String = "application/json", token: String? = nil) -> RequestBody {
            RequestBody(bytes: ByteBuffer(string: text), contentType: type, contentEncoding: nil, releaseToken: token)
        }
        #expect(!ProxyHandler.admitsOffLoop(body(#"{"model":"m"}"#), offLoopBytes: 1024))
        #expect(ProxyHandler.admitsOffLoop(body(#"{"model":"m"}"#, token: "rel_x"), offLoopBytes: 1024))
        #expect(ProxyHandler.admitsOffLoop(body(String(repeating: "a ", count: 600)), offLoopBytes: 1024))
        #expect(ProxyHandler.admitsOffLoop(body(#"{"d":"data:application/pdf;base64,JVBE"}"#), offLoopBytes: 1024))
        #expect(ProxyHandler.admitsOffLoop(body("x", type: "multipart/form-data; boundary=b"), offLoopBytes: 1024))
    }
}
