import GatewayConfig
import GatewayCrypto
import NIOCore

/// Picks a share of forwarded requests (`review.sampling`, by role and provider) for people to review after the
/// fact: the picked request's body, as forwarded (redacted), goes into `context.sampledBody`, and the audit trail
/// keeps it encrypted under the request's record (`SampleKeeper`). Runs after classification, so it sees only
/// bodies that are about to leave, already redacted.
///
/// The draw uses OpenSSL's random bytes: a caller cannot predict which of its requests will be read by a person.
struct ReviewSampling: GatewayFilter {
    let shares: SamplingShares

    func inspectBody(_ body: inout RequestBody, context: inout RequestContext, state: inout Void) throws(GatewayError) {
        // Only a body that goes out as it is now: an Uploads API part is held raw (judged at completion), and a
        // completion sends a file, not this body.
        guard case .forward = context.delivery else { return }
        let share = self.shares.share(role: context.identity?.role, provider: context.provider?.name)
        guard share > 0, body.bytes.readableBytes > 0, Self.draw(share) else { return }
        context.sampledBody = body.bytes
    }

    /// True with probability `share`.
    static func draw(_ share: Double) -> Bool {
        if share >= 1 { return true }
        let random = Crypto.randomBytes(count: 8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return Double(random >> 11) / Double(1 << 53) < share
    }
}
