import Synchronization

/// Header values already scanned and found to hold nothing at all (no finding of any rule at any action), so the
/// route phase need not scan them again: SDKs send the same `content-type`, `user-agent` and `x-stainless-*` values
/// on every request. Exact strings, not hashes, so a value is skipped only if it is byte for byte one that was
/// scanned; bounded (emptied when full) so callers cannot grow it; keyed by the policy's confidence floor, the one
/// policy setting that decides whether a hit is a finding. The rule set is fixed for the life of the filter that owns
/// the cache: a reload of the rules must come with a new filter (and so a new cache).
final class CleanFieldCache: Sendable {
    static let capacity = 4096
    /// Longer values are always scanned (they are rare, and a cache of them would be a memory lever for callers).
    static let longestValue = 256

    private let clean = Mutex<Set<String>>([])

    private static func key(_ name: String, _ value: String, confidence: Double) -> String {
        "\(confidence)\u{0}\(name.lowercased())\u{0}\(value)"
    }

    func isKnownClean(_ name: String, _ value: String, confidence: Double) -> Bool {
        guard value.utf8.count <= Self.longestValue else { return false }
        let key = Self.key(name, value, confidence: confidence)
        return self.clean.withLock { $0.contains(key) }
    }

    func remember(_ name: String, _ value: String, confidence: Double) {
        guard value.utf8.count <= Self.longestValue else { return }
        let key = Self.key(name, value, confidence: confidence)
        self.clean.withLock { set in
            if set.count >= Self.capacity { set.removeAll(keepingCapacity: true) }
            set.insert(key)
        }
    }
}
