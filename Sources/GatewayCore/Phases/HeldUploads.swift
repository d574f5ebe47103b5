import Foundation
import GatewayCrypto
import Synchronization

/// Parts of OpenAI Uploads held on the gateway until their upload is completed, so the assembled file is inspected
/// before any of it reaches the vendor. Each part is sealed with AES-256-GCM under a key made at start-up and never
/// written anywhere (so a crash or a core dump leaves nothing readable), bound to its upload and its owner.
///
/// Bounds: all held parts together at most `capacity` bytes (a part past it is refused, 503), each part at most
/// `lifetime` old (the vendor's uploads expire after an hour too); `purgeExpired()` runs with the server's
/// housekeeping. Not shared between replicas: an upload's parts and its completion must reach the same gateway.
final class HeldUploads: Sendable {
    struct Part {
        let upload: String
        let owner: String
        let sealed: [UInt8]
        let size: Int
        let heldAt: ContinuousClock.Instant
    }

    enum Failure: Error, Equatable {
        /// Holding the part would pass the capacity.
        case full
        /// A part id this gateway does not hold for this upload and owner (expired, completed, or never held here).
        case unknownPart(String)
    }

    let capacity: Int
    let lifetime: Duration
    private let key = Crypto.randomBytes(count: AESGCM.keyLength)
    private let state = Mutex<(parts: [String: Part], bytes: Int)>(([:], 0))

    /// Told each time a part is refused for want of room (the gateway counts it as a limit hit).
    let onFull: @Sendable () -> Void

    init(capacity: Int, lifetime: Duration = .seconds(3600), onFull: @escaping @Sendable () -> Void = {}) {
        self.capacity = capacity
        self.lifetime = lifetime
        self.onFull = onFull
    }

    var heldBytes: Int { self.state.withLock { $0.bytes } }

    /// Holds `data` as a part of `upload` for `owner`; returns the part id to give the caller.
    func hold(_ data: [UInt8], upload: String, owner: String) throws(Failure) -> String {
        let id = "part_gw_" + Crypto.hex(Crypto.identifierBytes(count: 12))
        guard let sealed = try? AESGCM.seal(data, key: self.key, authenticating: Array((upload + "\u{0}" + id).utf8))
        else { throw .full }
        let part = Part(upload: upload, owner: owner, sealed: sealed, size: data.count, heldAt: .now)
        let accepted = self.state.withLock { state -> Bool in
            guard state.bytes + data.count <= self.capacity else { return false }
            state.parts[id] = part
            state.bytes += data.count
            return true
        }
        guard accepted else {
            self.onFull()
            throw .full
        }
        return id
    }

    /// Takes the parts `ids` of `upload` held for `owner`, in that order, and releases them (whether or not the
    /// file then passes inspection: a completion is tried once). Throws, releasing nothing, when one is not held.
    func take(_ ids: [String], upload: String, owner: String) throws(Failure) -> [UInt8] {
        let parts = try self.state.withLock { (state) throws(Failure) -> [(String, Part)] in
            var found: [(String, Part)] = []
            for id in ids {
                guard let part = state.parts[id], part.upload == upload, part.owner == owner,
                      ContinuousClock.now - part.heldAt < self.lifetime
                else { throw .unknownPart(id) }
                found.append((id, part))
            }
            for (id, part) in found where state.parts.removeValue(forKey: id) != nil { state.bytes -= part.size }
            return found
        }
        var file: [UInt8] = []
        for (id, part) in parts {
            guard let plain = try? AESGCM.open(part.sealed, key: self.key,
                                               authenticating: Array((upload + "\u{0}" + id).utf8))
            else { throw .unknownPart(id) }
            file += plain
        }
        return file
    }

    /// Drops parts older than `lifetime`; returns how many.
    @discardableResult
    func purgeExpired(now: ContinuousClock.Instant = .now) -> Int {
        self.state.withLock { state in
            let expired = state.parts.filter { now - $0.value.heldAt >= self.lifetime }
            for (id, part) in expired {
                state.parts.removeValue(forKey: id)
                state.bytes -= part.size
            }
            return expired.count
        }
    }
}
