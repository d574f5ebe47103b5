import Foundation
import GatewayAudit
import GatewayConfig
import GatewayCrypto
import GatewayRules

/// The gateway's side of the decision records: it turns a `RequestContext` into records, keeps blocked bodies in
/// quarantine, and redeems reviewers' release tokens.
///
/// Durability is the contract: a request is forwarded only after its decision record is on disk, and a refusal is
/// answered only after its record is on disk. When records cannot be written the gateway answers 503 and forwards
/// nothing until the log recovers (it retries by itself).
final class AuditTrail: RequestObserver {
    let log: AuditLog
    let ledger: ReleaseLedger
    let instance: String
    let ruleSetHash: String
    let policyHash: String
    /// Held and sampled bodies, the review queue and verdicts.
    let reviews: any ReviewStore
    /// Keeps sampled bodies off the request path.
    let samples: SampleKeeper

    init(
        log: AuditLog, ledger: ReleaseLedger, instance: String, ruleSetHash: String, policyHash: String,
        reviews: any ReviewStore, limits: LimitCounters? = nil
    ) {
        self.log = log
        self.ledger = ledger
        self.reviews = reviews
        self.samples = SampleKeeper(store: reviews, limits: limits)
        self.instance = instance
        self.ruleSetHash = ruleSetHash
        self.policyHash = policyHash
    }

    /// Opens the log (repairing a torn tail), the quarantine and the release ledger under `audit.directory`.
    /// - Parameter faults: makes the log's file operations fail on demand (tests and drills only).
    /// - Parameter metrics: where the log's group commits are counted and timed.
    /// - Parameter ruleSetHash: the loaded rule set's digest (`RuleSet.sourceDigest`), so records name the rules
    ///   actually in force, not a second reading of the directory.
    static func open(
        configuration: GatewayConfiguration, ruleSetHash: String, faults: FaultInjector? = nil,
        metrics: GatewayMetrics? = nil
    ) async throws -> AuditTrail {
        let location = AuditLocation(directory: configuration.audit.directory.absolute)
        var logConfiguration = AuditLogConfiguration(location: location)
        logConfiguration.faults = faults
        logConfiguration.syncInterval = configuration.audit.syncIntervalMilliseconds.map { .milliseconds($0) }
        if let metrics {
            logConfiguration.batchWritten = { lines, duration in metrics.auditBatchWritten(lines: lines, duration: duration) }
        }
        let log = try await AuditLog.open(logConfiguration)
        return AuditTrail(
            log: log, ledger: ReleaseLedger(location: location),
            instance: ProcessInfo.processInfo.hostName + ":" + String(configuration.listen.port),
            ruleSetHash: ruleSetHash,
            policyHash: Self.digest(ofFile: configuration.policy.file.absolute),
            reviews: try LocalReviewStore(location: location), limits: metrics?.limits
        )
    }

    var isHealthy: Bool { self.log.isHealthy }

    // MARK: - Records

    /// Writes the record of a request about to be forwarded; `completion` runs (on the log's I/O queue) once it is
    /// durable, with the record's id, or with `.auditUnavailable` (503) when it cannot be written: the request must
    /// then not be forwarded.
    /// The write itself starts when `flushQueuedLines()` is called (once per event-loop pass).
    ///
    /// The record is built on the log's I/O queue from a copy of `context` (see `AuditLog.append(recordMadeBy:)`);
    /// only its id and time are taken here, when the decision was made.
    func recordForwarded(
        _ context: RequestContext, completion: @escaping @Sendable (Result<RecordID, GatewayError>) -> Void
    ) {
        let milliseconds = UTCTime.nowMilliseconds()
        let id = RecordID.generate(milliseconds: milliseconds)
        let sample = context.sampledBody
        let sender = Sender(user: context.identity?.user ?? "anonymous", keyID: context.identity?.keyID)
        self.log.append(
            recordMadeBy: { self.forwardedRecord(context, id: id, milliseconds: milliseconds) }, flush: .withPass
        ) { result in
            // A sample is kept only for a request that will be forwarded: once its record is durable.
            if case .success = result, let sample { self.samples.keep(sample, recordID: id, sender: sender) }
            completion(result.map { _ in id }.mapError { _ in Self.unavailable })
        }
    }

    /// The decision record of a request about to be forwarded.
    private func forwardedRecord(_ context: RequestContext, id: RecordID, milliseconds: UInt64) -> DecisionRecord {
        let decision = GatewayAudit.Decision(of: context, refusal: nil)
        let reason: Reason =
            switch decision {
            case .released: .reviewReleased
            case _ where context.delivery.localAnswer != nil: context.delivery.localAnswer!.reason
            case .uninspected: .documentUninspected
            case .redact: .ruleMatchRedacted
            default: context.decision?.findings.isEmpty == false ? .ruleMatchAllowed : .clean
            }
        var record = self.record(
            for: context, decision: decision, reason: reason.code, status: nil, id: id,
            time: UTCTime.format(milliseconds: milliseconds)
        )
        record.bytesForwarded = context.forwardedBytes
        if context.sampledBody != nil { record.sampled = true }
        if let grant = context.release {
            record.release = ReleaseReference(blockedRecord: grant.recordID, tokenID: grant.tokenID, reviewer: grant.reviewer)
        }
        return record
    }

    /// Writes the record of a refused or failed request before it is answered, quarantining a blocked body.
    ///
    /// Quarantining writes and fsyncs a file, so call this off the event loop when `body` is given.
    /// - Parameter body: the request body, when `quarantines` says it is kept; nil otherwise.
    /// - Parameter completion: runs (on the log's I/O queue) once the record is durable, with the error to answer
    ///   with and the record's id, or with 503 and nil when it could not be written.
    func recordRefused(
        _ error: GatewayError, context: RequestContext, body: [UInt8]?,
        completion: @escaping @Sendable (GatewayError, RecordID?) -> Void
    ) {
        let decision = GatewayAudit.Decision(of: context, refusal: error)
        var record = self.record(
            for: context, decision: decision, reason: Reason(error).code, status: Int(error.status.code),
            id: context.escalation?.ticket ?? .generate()
        )
        if decision == .review { record.escalation = context.escalation?.reasons }
        if decision == .block || decision == .review, let body, !body.isEmpty {
            // A body that cannot be kept is still refused; its record says it was not kept.
            let sender = Sender(user: context.identity?.user ?? "anonymous", keyID: context.identity?.keyID)
            record.quarantined = (try? self.reviews.keep(
                body: body, recordID: record.id, sender: sender, purpose: decision == .review ? .review : .block,
                reasons: record.escalation)) != nil
        }
        let id = record.id
        self.log.append(.record(record), flush: .now) { result in
            switch result {
            case .success: completion(error, id)
            case .failure: completion(Self.unavailable, nil)
            }
        }
    }

    /// Whether a refusal of `context` with `error` keeps a body of `bodyBytes` in quarantine (blocking file I/O):
    /// a block by policy and a request held for review do.
    func quarantines(_ error: GatewayError, context: RequestContext, bodyBytes: Int) -> Bool {
        let decision = GatewayAudit.Decision(of: context, refusal: error)
        return (decision == .block || decision == .review) && bodyBytes > 0
    }

    /// Starts writing the lines queued since the last call.
    func flushQueuedLines() { self.log.flushQueuedLines() }

    /// Appends the outcome of a request its forwarding record was written for (status, bytes, timings). Not awaited:
    /// the decision record already made the request accountable; this line completes it. Outcomes are gathered into
    /// one line written with the next batch of records, or by themselves within the log's `deferredWriteDelay`, so
    /// an outcome costs no fsync and no seal of its own. A crash inside that window loses the outcome, never the
    /// record (which then reads "forwarded, outcome not recorded"). A request that left nothing to complete (refused:
    /// its one record says everything) writes no outcome. So does a caller that left before its record was durable,
    /// in which case the outcome line says the request was never sent, so "to be forwarded" is never read as
    /// "forwarded".
    func requestEnded(_ context: RequestContext, decision: GatewayAudit.Decision) {
        guard let id = context.auditRecordID, context.recordAwaitsOutcome else { return }
        let total = Self.milliseconds(ContinuousClock.now - context.startedAt)
        let upstream = context.upstreamStartedAt.map { Self.milliseconds(ContinuousClock.now - $0) }
        var outcome = RequestOutcome(
            id: id, upstreamStatus: context.upstreamStatus, status: context.responseStatus,
            bytesOut: context.responseBytes, streamed: context.streamed, upstreamMs: upstream, totalMs: total,
            error: context.error.map { Reason($0).code }, errorDetail: context.error?.detail
        )
        outcome.usage = context.usage
        self.log.appendOutcome(outcome)
    }

    private func record(
        for context: RequestContext, decision: GatewayAudit.Decision, reason: ReasonCode, status: Int?,
        id: RecordID = .generate(), time: String = UTCTime.format(milliseconds: UTCTime.nowMilliseconds())
    ) -> DecisionRecord {
        let findings: [FindingSummary] = (context.decision?.findings ?? []).map { (finding: Finding) in
            FindingSummary(
                ruleID: finding.ruleID, category: finding.category.rawValue, type: finding.type,
                location: finding.location, confidence: finding.confidence, fingerprint: finding.fingerprint,
                preview: finding.preview, action: finding.action.rawValue
            )
        }
        let documents = (context.decision?.documents ?? []).map {
            DocumentEntry(location: $0.location, format: $0.format, bytes: $0.bytes, pages: $0.pages,
                          findings: $0.findings, outcome: $0.outcome.rawValue,
                          unreadable: $0.unreadable.isEmpty ? nil : $0.unreadable)
        }
        var record = DecisionRecord(
            id: id, time: time, requestID: context.requestID, instance: self.instance, clientAddress: context.clientAddress,
            identity: context.identity.map {
                Identity(user: $0.user, role: $0.role, keyID: $0.keyID, certificateFingerprint: $0.certificateFingerprint)
            },
            provider: context.provider?.name, method: context.method, target: context.target, model: context.model,
            decision: decision, reason: reason, status: status, findings: FindingSummary.aggregate(findings),
            bytesIn: context.requestBytes, inspectMs: context.inspectDuration.map(Self.milliseconds),
            ruleSetHash: context.ruleSet?.ruleSetHash ?? self.ruleSetHash,
            policyHash: context.ruleSet?.policyHash ?? self.policyHash
        )
        record.documents = documents.isEmpty ? nil : documents
        record.shadow = context.shadow
        return record
    }

    // MARK: - Release

    /// Redeems a reviewer's release token for exactly this body and sender.
    func redeem(token: String, body: [UInt8], identity: CallerIdentity?) throws(GatewayError) -> ReleaseGrant {
        let sender = Sender(user: identity?.user ?? "anonymous", keyID: identity?.keyID)
        do {
            return try self.ledger.redeem(token: token, body: body, sender: sender)
        } catch {
            throw GatewayError(.forbidden, "The release token was not accepted (\(error)); the request stays blocked.")
        }
    }

    /// Writes the samples still queued, then closes the log (its shutdown checkpoint seals it).
    func close() async {
        self.samples.drain()
        try? await self.log.close()
    }

    // MARK: - Helpers

    static let unavailable = GatewayError(
        .auditUnavailable, "The gateway cannot write its decision records right now; nothing was sent. Retry shortly."
    )

    static func milliseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return (Double(seconds) * 1000 + Double(attoseconds) / 1e15).rounded(toPlaces: 3)
    }

    /// SHA-256 of the policy file, so a record names the policy in force.
    static func digest(ofFile path: String) -> String {
        Crypto.hex(Crypto.sha256(FileManager.default.contents(atPath: path).map(Array.init) ?? []))
    }
}

extension Double {
    fileprivate func rounded(toPlaces places: Int) -> Double {
        let scale = pow(10, Double(places))
        return (self * scale).rounded() / scale
    }
}
