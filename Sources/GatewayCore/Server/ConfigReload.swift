import Foundation
import GatewayAudit
import GatewayConfig
import Synchronization

/// What a reload did: the rule set and policy now in force, or why nothing changed.
public struct ReloadReport: Sendable, CustomStringConvertible {
    /// Whether the new configuration is in force.
    public let applied: Bool
    /// The rules and policy in force after the reload (the previous ones when it failed).
    public let inForce: RuleSetIdentity
    /// Why the configuration was refused, exactly as `gatewayctl config check` reports it.
    public let problems: [String]
    /// Settings changed in the files that take effect only at the next start; they keep their running values.
    public let restartRequired: [String]

    public var description: String {
        var lines: [String] = []
        if self.applied {
            lines.append("reloaded: rules \(self.inForce.ruleSetHash.prefix(12)), policy \(self.inForce.policyHash.prefix(12))")
        } else {
            lines.append("reload refused; the previous configuration keeps serving (rules \(self.inForce.ruleSetHash.prefix(12)), policy \(self.inForce.policyHash.prefix(12))):")
            lines += self.problems.map { "  " + $0 }
        }
        if !self.restartRequired.isEmpty {
            lines.append("changed, but only applied at the next start (the running values stay):")
            lines += self.restartRequired.map { "  " + $0 }
        }
        return lines.joined(separator: "\n")
    }

    public init(applied: Bool, inForce: RuleSetIdentity, problems: [String], restartRequired: [String]) {
        self.applied = applied
        self.inForce = inForce
        self.problems = problems
        self.restartRequired = restartRequired
    }

    /// The report read back from `json` (what `gatewayctl reload` receives); nil when it is not one.
    public init?(json: String) {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any],
              let applied = object["applied"] as? Bool, let rules = object["rule_set_hash"] as? String,
              let policy = object["policy_hash"] as? String
        else { return nil }
        self.init(
            applied: applied, inForce: RuleSetIdentity(ruleSetHash: rules, policyHash: policy),
            problems: object["problems"] as? [String] ?? [], restartRequired: object["restart_required"] as? [String] ?? [])
    }

    /// The report as JSON (the admin listener's answer to `POST /reload`).
    public var json: String {
        func list(_ values: [String]) -> String { "[" + values.map(VendorErrorBody.jsonString).joined(separator: ",") + "]" }
        return #"{"applied":\#(self.applied),"rule_set_hash":"\#(self.inForce.ruleSetHash)","policy_hash":"\#(self.inForce.policyHash)","problems":\#(list(self.problems)),"restart_required":\#(list(self.restartRequired))}"#
    }
}

/// Lets one reload run at a time.
final class ReloadGate: Sendable {
    private let busy = Mutex(false)

    func enter() -> Bool { self.busy.withLock { busy in busy ? false : { busy = true; return true }() } }
    func leave() { self.busy.withLock { $0 = false } }
}

extension GatewayRuntime {
    /// Re-reads `gateway.yaml`, the policy and `rules/` from the files the gateway started with, and puts them in
    /// force if the whole set is valid. Requests in flight finish under the set they started with.
    ///
    /// The new set is loaded, validated and compiled completely before it replaces the old one; if anything is
    /// wrong, the old set keeps serving and the problems are reported as `config check` reports them. Either way a
    /// configuration event is written to the decision log (`config_reloaded` with the new hashes, or
    /// `config_reload_failed`). Settings that need a restart (listeners, TLS files, admin, audit, keys file, limits,
    /// providers' addresses, CAs, pools and connection timeouts, held-upload capacity) are named, and keep their
    /// running values.
    public func reload() async -> ReloadReport {
        guard self.reloading.enter() else {
            return ReloadReport(
                applied: false, inForce: self.pipeline.identity, problems: ["a reload is already running"],
                restartRequired: [])
        }
        defer { self.reloading.leave() }
        let running = self.pipeline
        let report: ReloadReport
        do {
            let configuration = try ConfigLoader.load(path: self.configuration.file.absolute)
            let inspector = try Self.makeInspector(
                configuration, limits: self.configuration.limits, fingerprintKey: self.fingerprintKey)
            let pipeline = Self.makePipeline(
                configuration, running: self.configuration, inspector: inspector, keys: self.keys, heldUploads: self.heldUploads,
                metrics: self.metrics, audit: running.audit, extraFilters: self.extraFilters,
                mailboxes: running.mailboxes
            )
            self.live.replace(with: pipeline)
            report = ReloadReport(
                applied: true, inForce: pipeline.identity, problems: [],
                restartRequired: Self.restartRequired(running: self.configuration, loaded: configuration))
        } catch let error as ConfigError {
            report = ReloadReport(
                applied: false, inForce: running.identity, problems: error.problems.map(\.description),
                restartRequired: [])
        } catch {
            report = ReloadReport(
                applied: false, inForce: running.identity, problems: ["rules: \(error)"], restartRequired: [])
        }
        let event = ConfigEvent(
            event: report.applied ? .configReloaded : .configReloadFailed, ruleSetHash: report.inForce.ruleSetHash,
            policyHash: report.inForce.policyHash, problems: report.problems.isEmpty ? nil : report.problems,
            restartRequired: report.restartRequired.isEmpty ? nil : report.restartRequired)
        _ = try? await running.audit?.log.append(event)
        return report
    }

    /// The settings `loaded` changes that the running gateway cannot change without a restart.
    static func restartRequired(running: GatewayConfiguration, loaded: GatewayConfiguration) -> [String] {
        var changed: [String] = []
        if running.listen != loaded.listen {
            changed.append("listen (address, port, TLS certificate and key, client CA, authentication)")
        }
        if running.admin != loaded.admin { changed.append("admin") }
        if running.audit != loaded.audit { changed.append("audit") }
        if running.keys != loaded.keys { changed.append("keys.file") }
        if running.shutdown != loaded.shutdown { changed.append("shutdown") }
        if running.limits != loaded.limits { changed.append("limits") }
        if running.documents.maxHeldUploadBytes != loaded.documents.maxHeldUploadBytes {
            changed.append("documents.max_held_upload_bytes")
        }
        let old = Dictionary(running.providers.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let new = Dictionary(loaded.providers.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for name in new.keys.sorted() where old[name] == nil { changed.append("providers: \(name) added") }
        for name in old.keys.sorted() where new[name] == nil { changed.append("providers: \(name) removed") }
        for (name, provider) in new.sorted(by: { $0.key < $1.key }) {
            guard let before = old[name] else { continue }
            if before.baseURL != provider.baseURL { changed.append("providers[\(name)].base_url") }
            if before.caFile != provider.caFile { changed.append("providers[\(name)].ca_file") }
            if before.pool != provider.pool { changed.append("providers[\(name)].pool") }
            if before.timeouts != provider.timeouts {
                changed.append("providers[\(name)].timeouts (connect, tls and idle; first_byte applies at once)")
            }
        }
        return changed
    }
}
