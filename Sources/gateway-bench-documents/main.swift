// Document extraction benchmark: for each file given, the extraction throughput (MB/s of file and pages/s, median
// of runs on one thread) and the time to decide (extraction and the default rules, as an upload), median of runs.
// Usage: gateway-bench-documents --rules DIR [--seconds S] FILE...   (bench/documents-bench generates the files)
import Foundation
import GatewayDocuments
import GatewayRules

var arguments = Array(CommandLine.arguments.dropFirst())
var rulesDirectory = "rules"
var seconds = 2.0
var files: [String] = []
while !arguments.isEmpty {
    let argument = arguments.removeFirst()
    switch argument {
    case "--rules": rulesDirectory = arguments.removeFirst()
    case "--seconds": seconds = Double(arguments.removeFirst()) ?? seconds
    default: files.append(argument)
    }
}

let rules = try RuleLoader.load(directory: rulesDirectory)
// OCR as a role with `ocr: true` has it (when Tesseract's English data is installed).
let reader = TesseractReader()
let imageReader: (any ImageTextReader)? = reader.isAvailable ? reader : nil
let inspector = BodyInspector(rules: rules, fingerprintKey: Array("benchmark-key".utf8), imageReader: imageReader)
var policy = CategoryPolicy.default
policy.readImages = true
let extractor = DocumentExtractor(imageReader: imageReader)
let limits = DocumentLimits.default

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

/// Runs `body` until `seconds` have passed (at least 3 times); the durations in seconds.
func measure(for seconds: Double, _ body: () throws -> Void) rethrows -> [Double] {
    var durations: [Double] = []
    let clock = ContinuousClock()
    let end = clock.now.advanced(by: .milliseconds(Int(seconds * 1000)))
    repeat {
        let start = clock.now
        try body()
        let elapsed = clock.now - start
        durations.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    } while durations.count < 3 || clock.now < end
    return durations
}

/// The file as a `/v1/files` multipart upload.
func upload(_ bytes: [UInt8], name: String) -> [UInt8] {
    Array("--b\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nassistants\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(name)\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8)
        + bytes + Array("\r\n--b--\r\n".utf8)
}

func pad(_ text: String, _ width: Int) -> String {
    width < 0 ? text + String(repeating: " ", count: max(0, -width - text.count))
        : String(repeating: " ", count: max(0, width - text.count)) + text
}
func row(_ cells: [String]) -> String {
    zip(cells, [-20, 9, 7, 6, 9, 8, 8, 10, 9]).map { pad($0, $1) }.joined(separator: " ")
}
print(row(["file", "bytes", "format", "pages", "text", "MB/s", "pages/s", "decide ms", "decision"]))
for path in files {
    let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    let name = (path as NSString).lastPathComponent
    var document: ExtractedDocument?
    let extraction = try measure(for: seconds) {
        document = try extractor.extract(bytes, filename: name, budget: ExtractionBudget(limits: limits))
    }
    let extractionSeconds = median(extraction)
    let pages = document?.pages ?? 0
    let textBytes = document?.texts.reduce(0) { $0 + $1.text.count } ?? 0
    let body = upload(bytes, name: name)
    var decision: Decision?
    let deciding = try measure(for: seconds) {
        decision = try inspector.inspect(body: body, contentType: "multipart/form-data; boundary=b", contentEncoding: nil,
                                         policy: policy)
    }
    let verdict: String =
        switch decision?.verdict {
        case .allow: "allow"
        case .redact: "redact"
        case .block: "block"
        case nil: "-"
        }
    print(row([
        name, String(bytes.count), document?.format.rawValue ?? "-", pages > 0 ? String(pages) : "-", String(textBytes),
        String(format: "%.1f", Double(bytes.count) / extractionSeconds / 1e6),
        pages > 0 ? String(format: "%.0f", Double(pages) / extractionSeconds) : "-",
        String(format: "%.1f", median(deciding) * 1000), verdict,
    ]))
}
