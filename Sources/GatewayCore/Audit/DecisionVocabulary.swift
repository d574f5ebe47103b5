import GatewayAudit

extension GatewayAudit.Decision {
    /// The one word for what the gateway decided about a request, shared by its decision record, its outcome and
    /// the `decision` label of `gateway_requests_total`. Computed from the request alone, so they cannot disagree.
    /// - Parameter refusal: the error the request is refused with; nil for a request the gateway forwards or answers.
    init(of context: RequestContext, refusal: GatewayError?) {
        if let refusal {
            switch refusal.kind {
            case .blockedByPolicy: self = context.decision?.isBlocked == true ? .block : .error
            case .heldForReview: self = .review
            case .internalFailure, .upstreamUnavailable, .upstreamTimeout, .upstreamProtocol: self = .error
            default: self = .refused
            }
        } else if context.release != nil {
            self = .released
        } else if context.decision?.forwardsUninspected == true {
            self = .uninspected
        } else if case .redact = context.decision?.verdict {
            self = .redact
        } else {
            self = .allow
        }
    }

    /// The decision of a request that has ended. A request whose forwarding record was written keeps that record's
    /// decision whatever happened after (the vendor failed, the caller left); otherwise its error is its refusal.
    init(ended context: RequestContext) {
        let forwardedUnder = context.forwarded || context.recordAwaitsOutcome || context.error == nil
        self.init(of: context, refusal: forwardedUnder ? nil : context.error)
    }

    /// Whether the request went out, or was answered, under this decision (rather than refused).
    var forwards: Bool {
        switch self {
        case .allow, .redact, .released, .uninspected: true
        case .block, .review, .refused, .error: false
        }
    }
}
