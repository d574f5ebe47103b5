import Foundation
import GatewayRules

/// Where the fuzzers find the repository's files, and how they report a broken invariant.
public enum FuzzEnvironment {
    /// The repository root: `FUZZ_REPO_ROOT`, else the first directory holding `rules/` and `gateway.yaml` found by
    /// walking up from the executable (`.build-fuzz/<triple>/release/fuzz-x`), then from the working directory.
    public static let repositoryRoot: String = {
        if let root = ProcessInfo.processInfo.environment["FUZZ_REPO_ROOT"], !root.isEmpty { return root }
        var starts: [String] = []
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            starts.append((exe as NSString).deletingLastPathComponent)
        }
        starts.append(FileManager.default.currentDirectoryPath)
        for start in starts {
            var directory = start
            while true {
                if FileManager.default.fileExists(atPath: directory + "/rules"),
                    FileManager.default.fileExists(atPath: directory + "/gateway.yaml")
                {
                    return directory
                }
                let parent = (directory as NSString).deletingLastPathComponent
                if parent == directory || parent.isEmpty { break }
                directory = parent
            }
        }
        fail("cannot find the repository (no rules/ and gateway.yaml above the executable or the working directory); set FUZZ_REPO_ROOT or FUZZ_RULES_DIR")
    }()

    /// The rules directory: `FUZZ_RULES_DIR`, else `<repository>/rules`.
    public static var rulesDirectory: String {
        if let directory = ProcessInfo.processInfo.environment["FUZZ_RULES_DIR"], !directory.isEmpty { return directory }
        return repositoryRoot + "/rules"
    }

    /// A setup problem (not a finding): message and exit 2, no crash report.
    public static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("fuzz setup: \(message)\n".utf8))
        exit(2)
    }
}

/// A broken invariant is a finding: crash so libFuzzer saves the input.
public func invariant(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                      file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fatalError("INVARIANT: \(message())", file: file, line: line) }
}

/// The real rules, loaded once per process, and an inspector over them with a fixed fingerprint key.
public enum FuzzInspector {
    public static let fingerprintKey: [UInt8] = Array("fuzz-fingerprint-key-0123456789ab".utf8)

    public static let shared: BodyInspector = {
        let directory = FuzzEnvironment.rulesDirectory
        do {
            let rules = try RuleLoader.load(directory: directory)
            return BodyInspector(rules: rules, fingerprintKey: fingerprintKey)
        } catch {
            FuzzEnvironment.fail("cannot load the rules in \(directory): \(error)")
        }
    }()

    /// Every category redacted (secrets included, with the keyed-hash style) and every finding counted, so the
    /// redaction and splicing paths run on as many inputs as possible.
    public static let redactEverything = CategoryPolicy(
        treatments: [
            .secret: CategoryTreatment(.redact, style: .keyedHash),
            .pci: CategoryTreatment(.redact, style: .mask(keepLast: 4)),
            .pii: CategoryTreatment(.redact, style: .placeholder),
        ],
        fallback: CategoryTreatment(.redact), minimumConfidence: 0.0, allowUninspected: false)
}

/// `FUZZ_DEBUG=1`: print each input's decision (to check what seeds reach: `fuzz-json corpus/fuzz-json/*`).
let debug = ProcessInfo.processInfo.environment["FUZZ_DEBUG"] == "1"

/// Runs one body through the inspector under the production policy and the redact-everything policy; any
/// `InspectionError` is an acceptable answer. A redacted body must inspect again without `.invalidBody` (the
/// rewrite keeps the structure).
public func fuzzBody(_ body: [UInt8], contentType: String) {
    let inspector = FuzzInspector.shared
    // The production policy: only the decision logic differs, the scan is the same.
    _ = try? inspector.inspect(body: body, contentType: contentType, contentEncoding: nil, policy: .default)
    let decision: Decision
    do {
        decision = try inspector.inspect(body: body, contentType: contentType, contentEncoding: nil,
                                         policy: FuzzInspector.redactEverything)
    } catch {
        if debug { print("\(contentType): \(error)") }
        return
    }
    if debug {
        let verdict: String
        switch decision.verdict {
        case .allow: verdict = "allow"
        case .redact(let body, _): verdict = "redact (\(body.count) bytes)"
        case .block(let reason): verdict = "block: \(reason)"
        }
        print("\(contentType): \(verdict); findings: \(decision.findings.map { "\($0.ruleID) at \($0.location)" })")
    }
    guard case .redact(let rewritten, let encodingRemoved) = decision.verdict else { return }
    invariant(!encodingRemoved, "contentEncodingRemoved for an unencoded body")
    invariant(!decision.findings.isEmpty, "redacted without findings")
    // Bodies shaped like JSON are read as JSON whatever their label. A text body that did not look like JSON can be
    // rewritten into one that does (a placeholder such as `[EMAIL_1]` at its start); it is text, not broken JSON, so
    // the re-parse check only applies when the shape did not change.
    guard looksLikeJSON(body) || !looksLikeJSON(rewritten) else { return }
    do {
        _ = try inspector.inspect(body: rewritten, contentType: contentType, contentEncoding: nil,
                                  policy: FuzzInspector.redactEverything)
    } catch .invalidBody(let why) {
        fatalError("INVARIANT: the redacted \(contentType) body no longer parses (\(why)); redacted body (\(rewritten.count) bytes): \(String(decoding: rewritten.prefix(2048), as: UTF8.self).debugDescription)")
    } catch {
        // Other errors (tooLarge after expansion, engine limits) are legitimate answers.
    }
}

/// Whether `body` starts (after whitespace) with `{` or `[`: the inspector reads such bodies as JSON.
public func looksLikeJSON(_ body: [UInt8]) -> Bool {
    let first = body.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
    return first == UInt8(ascii: "{") || first == UInt8(ascii: "[")
}
