import Foundation
import GatewayConfig
import GatewayRules

/// OpenAI's Uploads API sends a file in parts (`POST /v1/uploads/{id}/parts`) and assembles it at
/// `POST /v1/uploads/{id}/complete`. A value may straddle two parts, and half a PDF reads as nothing, so the gateway
/// holds the parts as sent (`HeldUploads`, sealed) and answers each with a part object of its own; at completion it
/// assembles them in the order given, inspects the file as one document, and only then sends it to the vendor, as
/// the upload's one part, before forwarding the completion with that part's id. A file that would need redaction is
/// refused: rewriting it would change the size the upload declared.
struct UploadHold {
    let held: HeldUploads
    let inspector: BodyInspector
    let deadlineMilliseconds: Int
    /// What the policy holds for a person (`review.escalate`): an upload cannot be held, so it is refused instead.
    var escalation = ReviewPolicy.Escalation()

    /// `/v1/uploads/{id}/parts` → id.
    static func partUpload(_ path: String) -> String? { self.upload(path, action: "/parts") }
    /// `/v1/uploads/{id}/complete` → id.
    static func completedUpload(_ path: String) -> String? { self.upload(path, action: "/complete") }

    private static func upload(_ path: String, action: StaticString) -> String? {
        // Every request asks: a byte comparison of the path's end first, no allocation.
        let utf8 = path.utf8
        let count = action.utf8CodeUnitCount
        guard utf8.count > count,
              utf8.suffix(count).elementsEqual(UnsafeBufferPointer(start: action.utf8Start, count: count))
        else { return nil }
        let segments = path.split(separator: "/")
        guard segments.count >= 4, segments[segments.count - 3] == "uploads"
        else { return nil }
        return String(segments[segments.count - 2])
    }

    static func owner(_ context: RequestContext) -> String {
        (context.identity?.user ?? "anonymous") + "\u{0}" + (context.identity?.keyID ?? "")
    }

    /// Holds a part as sent and answers it (`context.delivery = .answerLocally`); its decision is an allow with
    /// nothing inspected yet, the file being judged at completion.
    func holdPart(_ body: RequestBody, upload: String, context: inout RequestContext) throws(GatewayError) {
        let bytes = Array(body.bytes.readableBytesView)
        guard let data = MultipartForm.content(ofField: "data", in: bytes, contentType: body.contentType ?? "") else {
            throw GatewayError(.badRequest, "An upload part must be multipart/form-data with a `data` field.")
        }
        let id: String
        do throws(HeldUploads.Failure) {
            id = try self.held.hold(data, upload: upload, owner: Self.owner(context))
        } catch {
            throw GatewayError(
                .overloaded, "The gateway holds as many upload parts as it may; nothing was stored. Retry shortly.",
                retryAfterSeconds: 5)
        }
        context.decision = Decision(verdict: .allow, findings: [], inspectedBytes: 0)
        let created = Int(Date().timeIntervalSince1970)
        context.delivery = .answerLocally(LocalAnswer(
            json: #"{"id":"\#(id)","object":"upload.part","created_at":\#(created),"upload_id":\#(VendorErrorBody.jsonString(upload))}"#,
            reason: .uploadPartHeld))
    }

    /// Assembles the parts `part_ids` names, inspects the file as one document, and either refuses the completion or
    /// sets `context.delivery = .forwardAfterUpload(file)`: the state machine sends the file to the vendor first.
    func complete(_ body: RequestBody, upload: String, context: inout RequestContext, policy: CategoryPolicy)
        throws(GatewayError)
    {
        let object = (try? JSONSerialization.jsonObject(with: Data(body.bytes.readableBytesView))) as? [String: Any]
        guard let ids = object?["part_ids"] as? [String], !ids.isEmpty else {
            throw GatewayError(.badRequest, "Completing an upload needs `part_ids`, a non-empty list of part ids.")
        }
        let file: [UInt8]
        do throws(HeldUploads.Failure) {
            file = try self.held.take(ids, upload: upload, owner: Self.owner(context))
        } catch {
            let part = if case .unknownPart(let id) = error { id } else { "?" }
            throw GatewayError(
                .badRequest,
                "Upload part \(part) is not held by this gateway: send every part of an upload through the same "
                    + "gateway, within an hour, and complete it once.")
        }
        let decision: Decision
        do {
            decision = try self.inspector.inspect(
                body: file, contentType: "application/octet-stream", contentEncoding: nil, policy: policy,
                deadline: .after(milliseconds: self.deadlineMilliseconds, documents: self.deadlineMilliseconds))
        } catch {
            throw ClassificationFilter.gatewayError(for: error)
        }
        let merged = Decision(
            verdict: decision.verdict, findings: (context.decision?.findings ?? []) + decision.findings,
            inspectedBytes: (context.decision?.inspectedBytes ?? 0) + decision.inspectedBytes,
            fields: context.decision?.fields ?? [:], documents: decision.documents)
        // A file cannot wait in the review queue (its parts are consumed, and the completion is not the file): what
        // the policy would hold for a person is refused instead.
        if !self.escalation.isEmpty, !decision.findings.isEmpty,
            let reasons = ClassificationFilter.escalationReasons(decision, escalation: self.escalation, role: context.identity?.role)
        {
            context.decision = Decision(
                verdict: .block(reason: "request blocked: the uploaded file holds data the policy sends to review ("
                    + reasons.joined(separator: ", ") + "), and an upload cannot be held; send the file with /v1/files"),
                findings: merged.findings, inspectedBytes: merged.inspectedBytes, fields: merged.fields,
                documents: merged.documents)
            throw Self.blocked(context)
        }
        switch decision.verdict {
        case .allow:
            context.decision = merged
            context.delivery = .forwardAfterUpload(file)
        case .redact:
            context.decision = Decision(
                verdict: .block(reason: "request blocked: the uploaded file (\(ids.count) parts) holds data the "
                    + "policy redacts, and rewriting it would change the size the upload declared; send the file "
                    + "with /v1/files to have it rewritten"),
                findings: merged.findings, inspectedBytes: merged.inspectedBytes, fields: merged.fields,
                documents: merged.documents)
            throw Self.blocked(context)
        case .block:
            context.decision = merged
            throw Self.blocked(context)
        }
    }

    private static func blocked(_ context: RequestContext) -> GatewayError {
        guard case .block(let reason) = context.decision?.verdict else { return GatewayError(.internalFailure, "") }
        return GatewayError(
            .blockedByPolicy,
            "Request blocked by the AI gateway's data policy: \(reason). Remove the sensitive data and retry "
                + "(request id \(context.requestID)).")
    }

    /// The multipart body that sends `file` as an upload's one part.
    static func partBody(_ file: [UInt8], boundary: String) -> [UInt8] {
        Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"data\"; filename=\"upload\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8)
            + file + Array("\r\n--\(boundary)--\r\n".utf8)
    }
}
