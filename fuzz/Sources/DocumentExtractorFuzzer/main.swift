// DocumentExtractorFuzzer: the input is one uploaded document (PDF, ZIP / Office Open XML, e-mail, HTML, RTF, JSON,
// text or anything else). `DocumentExtractor.extract` must return or throw `DocumentError` (every throw is an
// acceptable answer: damaged, encrypted, unreadable, a limit), never crash or hang, under small limits so bombs stop
// early. What it returns must respect the budget: kept text within `maximumTextBytes`, decompression within
// `maximumDecompressedBytes`, a PDF of at most `maximumPages` pages. The same bytes also go through the public transfer
// decodings: base64 (an encoded document must decode back to itself) and quoted-printable (never longer than its
// input). HTML entity decoding (`MarkupText`) is internal: reached through HTML inputs.
// No OCR: images are unreadable (the Tesseract path is not fuzzed here).
import GatewayDocuments

let limits = DocumentLimits(maximumPages: 20, maximumDecompressedBytes: 8 << 20, maximumTextBytes: 4 << 20)
let extractor = DocumentExtractor()

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    _ = limits
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    let bytes = Array(input)

    let budget = ExtractionBudget(limits: limits)
    do {
        let document = try extractor.extract(bytes, budget: budget)
        invariant(document.byteCount == bytes.count, "byteCount \(document.byteCount) for \(bytes.count) bytes")
        let kept = document.texts.reduce(0) { $0 + $1.text.count }
        invariant(kept <= limits.maximumTextBytes, "\(kept) bytes of text kept, over maximumTextBytes")
        invariant(budget.textBytes <= limits.maximumTextBytes, "budget.textBytes \(budget.textBytes) over the limit")
        invariant(budget.decompressedBytes <= limits.maximumDecompressedBytes,
                  "budget.decompressedBytes \(budget.decompressedBytes) over the limit")
        // maximumPages bounds PDFs only (an Office file's `pages` counts slides and sheets, unbounded by it).
        invariant(document.format != .pdf || (document.pages ?? 0) <= limits.maximumPages,
                  "a PDF of \(document.pages ?? 0) pages, over maximumPages")
    } catch {
        // DocumentError (typed throws): damaged, encrypted, unreadable, a limit, the deadline. All expected.
        _ = error.description
    }
    _ = FormatSniffer.isDocument(bytes)

    // Transfer decodings on the raw bytes, and base64 round trip of the bytes themselves.
    _ = TransferDecoding.base64(input)
    _ = TransferDecoding.isBase64(input, minimum: 4)
    let encoded = TransferDecoding.encodeBase64(bytes)
    invariant(TransferDecoding.base64(encoded) == bytes, "base64 round trip changed \(bytes.count) bytes")
    let printable = TransferDecoding.quotedPrintable(input)
    invariant(printable.count <= size, "quoted-printable decoded \(size) bytes into \(printable.count)")
    let header = TransferDecoding.quotedPrintable(input, underscoreIsSpace: true)
    invariant(header.count == printable.count, "underscoreIsSpace changed the decoded length")
    return 0
}

/// A broken invariant is a finding: crash so libFuzzer saves the input. (Local, like fuzz-verify's: FuzzSupport would
/// pull in GatewayRules, which this target does not need.)
func invariant(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError("INVARIANT: \(message())") }
}
