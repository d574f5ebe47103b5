import Synchronization

/// The request phases in force, replaced whole by a configuration reload. A request takes the phases in force when
/// its head arrives and keeps them to its end, so a reload never changes the rules or the policy under a request in
/// flight, and its decision record names the set it was decided under (`RuleSetIdentity`).
public final class LivePipeline: Sendable {
    private let pipeline: Mutex<RequestPipeline>

    init(_ pipeline: RequestPipeline) { self.pipeline = Mutex(pipeline) }

    /// The phases for a request starting now.
    public var current: RequestPipeline { self.pipeline.withLock { $0 } }

    /// Puts `pipeline` in force for requests that start from now on; returns the one it replaces.
    @discardableResult
    func replace(with pipeline: RequestPipeline) -> RequestPipeline {
        self.pipeline.withLock { current in
            defer { current = pipeline }
            return current
        }
    }
}

/// Which rules and policy decided a request: digests of the loaded rule set (`RuleSet.sourceDigest`) and of the
/// policy file. Carried by every decision record and every configuration event.
public struct RuleSetIdentity: Sendable, Hashable {
    public let ruleSetHash: String
    public let policyHash: String

    public init(ruleSetHash: String, policyHash: String) {
        self.ruleSetHash = ruleSetHash
        self.policyHash = policyHash
    }
}
