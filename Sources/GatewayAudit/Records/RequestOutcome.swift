/// How a forwarded request ended, appended after the response completed (or failed) under the decision record's id.
///
/// Like `DecisionRecord`, it holds only numbers and codes.
public struct RequestOutcome: Sendable, Hashable, Codable {
    /// The decision record this completes.
    public var id: RecordID
    public var time: String
    /// What the vendor answered (nil when it never answered).
    public var upstreamStatus: Int?
    /// What the caller got.
    public var status: Int?
    /// Response bytes sent to the caller.
    public var bytesOut: Int
    public var streamed: Bool
    public var upstreamMs: Double?
    public var totalMs: Double
    /// Nil on success; e.g. `upstream.timeout`, `client.disconnected`.
    public var error: ReasonCode?
    /// What the operator needs to know of the failure and the caller was not told (e.g. the OpenSSL error of a
    /// failed vendor handshake). Written by the gateway, never from request content; cut to 256 characters.
    public var errorDetail: String?
    /// The tokens the vendor says the request used, read from the answer's `usage` (JSON and streamed answers of
    /// both APIs); nil when the answer carried none.
    public var usage: TokenUsage?

    public init(
        id: RecordID, time: String = UTCTime.format(milliseconds: UTCTime.nowMilliseconds()), upstreamStatus: Int?,
        status: Int?, bytesOut: Int, streamed: Bool = false, upstreamMs: Double?, totalMs: Double,
        error: ReasonCode? = nil, errorDetail: String? = nil
    ) {
        self.id = id
        self.time = time
        self.upstreamStatus = upstreamStatus
        self.status = status
        self.bytesOut = bytesOut
        self.streamed = streamed
        self.upstreamMs = upstreamMs
        self.totalMs = totalMs
        self.error = error
        self.errorDetail = SafeLabel.clean(errorDetail, limit: 256)
    }
}

/// Tokens a request used, as the vendor counted them.
public struct TokenUsage: Sendable, Hashable, Codable {
    /// Tokens read (OpenAI `prompt_tokens` / `input_tokens`, Anthropic `input_tokens`).
    public var prompt: Int
    /// Tokens written (`completion_tokens` / `output_tokens`).
    public var completion: Int
    /// Of the prompt, tokens served from the vendor's cache (OpenAI `cached_tokens`, Anthropic
    /// `cache_read_input_tokens`); nil when the answer does not say.
    public var cached: Int?

    public init(prompt: Int, completion: Int, cached: Int? = nil) {
        self.prompt = prompt
        self.completion = completion
        self.cached = cached
    }
}

/// A reviewer's action on a quarantined body: reveal, release or deny. Appended to the review log.
public struct ReviewEvent: Sendable, Hashable, Codable {
    public enum Action: String, Sendable, Hashable, Codable {
        /// The body was decrypted and shown to the reviewer.
        case reveal
        /// A one-time release token was issued.
        case release
        /// The body was marked as a true positive; no release will be issued.
        case deny
        /// The quarantined body was deleted (retention or operator).
        case purge
        /// A reviewer's verdict on the record's decision (`verdict`): a record of its own, chained like the others.
        case label
    }

    /// What a reviewer found a decision to be (`gatewayctl review label`).
    public enum Verdict: String, Sendable, Hashable, Codable, CaseIterable {
        /// The findings were real and the decision right.
        case correct
        /// At least one finding was not sensitive data: the rules that fired were wrong.
        case falsePositive = "false-positive"
        /// Sensitive data went through unfound.
        case missed
    }

    /// The blocked record the action concerns.
    public var id: RecordID
    public var time: String
    public var action: Action
    public var reviewer: String
    /// The reviewer's stated reason (cut to 128 characters; it is the reviewer's own text, never the body's).
    public var reason: String?
    /// For `release`: the token's id (never the token) and its expiry.
    public var tokenID: String?
    public var expires: String?
    /// For `label`: the verdict.
    public var verdict: Verdict?
    /// For `label`: the rules that fired on the record, copied when it is labelled, so verdicts turn into per-rule
    /// precision without reading the record again.
    public var rules: [String]?
    /// For `label`: the labelled record's decision and time, so review coverage counts only forwarded requests of
    /// its window.
    public var subjectDecision: Decision?
    public var subjectTime: String?

    public init(
        id: RecordID, time: String = UTCTime.format(milliseconds: UTCTime.nowMilliseconds()), action: Action,
        reviewer: String, reason: String? = nil, tokenID: String? = nil, expires: String? = nil, verdict: Verdict? = nil,
        rules: [String]? = nil
    ) {
        self.verdict = verdict
        self.rules = rules.map { $0.map { SafeLabel.clean($0, limit: 64) }.sorted() }
        self.id = id
        self.time = time
        self.action = action
        self.reviewer = SafeLabel.clean(reviewer)
        self.reason = SafeLabel.clean(reason)
        self.tokenID = SafeLabel.clean(tokenID, limit: 64)
        self.expires = expires
    }
}
