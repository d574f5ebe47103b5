import CoreMetrics
import Synchronization

/// The protective limits a caller can run into, each counted on `/metrics` as
/// `gateway_limit_hits_total{limit="…"}` and summed here for the periodic summary the server logs. No limit writes a
/// decision record per connection: a flood would otherwise become a flood of records.
public enum ProtectiveLimit: String, Sendable, CaseIterable {
    case tlsHandshakeTimeout = "tls_handshake_timeout"
    case requestHeadTimeout = "request_head_timeout"
    case requestBodyTimeout = "request_body_timeout"
    case keepAliveTimeout = "keep_alive_timeout"
    case connectionCap = "connection_cap"
    case bodyBudget = "body_budget"
    /// `documents.max_held_upload_bytes`: Uploads API parts held until completion.
    case heldUploads = "held_upload_bytes"
    /// `documents:` limits (a document past one is uninspectable), named after `DocumentError.limitExceeded`.
    case documentPages = "document_pages"
    case documentDecompressedBytes = "document_decompressed_bytes"
    case documentCompressionRatio = "document_compression_ratio"
    case documentArchiveMembers = "document_archive_members"
    case documentNestingDepth = "document_nesting_depth"
    case documentTextBytes = "document_text_bytes"
    case documentImagePixels = "document_image_pixels"
    /// Sampled bodies waiting to be kept for review (`SampleKeeper`); past it a sample is dropped.
    case reviewSampleBacklog = "review_sample_backlog"

    /// The counter for a document limit by its `DocumentError` name (`pages`, `decompressed_bytes`, …).
    init?(documentLimit name: String) { self.init(rawValue: "document_" + name) }
}

/// Counts of limit hits, by limit. Hits are rare (an attack is a few thousand a second at most), so one lock serves.
final class LimitCounters: Sendable {
    private let counts = Mutex<(totals: [ProtectiveLimit: Int], reported: [ProtectiveLimit: Int])>(([:], [:]))
    private let counters: [ProtectiveLimit: CoreMetrics.Counter]

    init(factory: any MetricsFactory) {
        var counters: [ProtectiveLimit: CoreMetrics.Counter] = [:]
        for limit in ProtectiveLimit.allCases {
            counters[limit] = CoreMetrics.Counter(
                label: "gateway_limit_hits_total", dimensions: [("limit", limit.rawValue)], factory: factory
            )
        }
        self.counters = counters
    }

    func hit(_ limit: ProtectiveLimit) {
        self.counts.withLock { $0.totals[limit, default: 0] += 1 }
        self.counters[limit]!.increment()
    }

    /// The hits since the previous call, by limit (only those that changed), for the server's summary log line.
    func sinceLastReport() -> [ProtectiveLimit: Int] {
        self.counts.withLock { counts in
            var changes: [ProtectiveLimit: Int] = [:]
            for (limit, total) in counts.totals where total != counts.reported[limit, default: 0] {
                changes[limit] = total - counts.reported[limit, default: 0]
            }
            counts.reported = counts.totals
            return changes
        }
    }
}
