// fuzz-rules: the input is one rule file (YAML). RuleLoader must return a RuleSet or throw RuleLoadError, never
// crash. When it loads, the set is also run over a short text so compiled patterns, validators and the prefilter
// built from fuzzed definitions get exercised.
import FuzzSupport
import GatewayRules

let sample = Array("""
    Contact jo.smith@acme-widgets.co.uk or +44 20 7946 0958; card 4111 1111 1111 1111; \
    key AKIAL2YY5HLGNUZLUMHX and ghp_eyjJEJwHbT4sLvKiNIRYeiPLJXRXz5u9Q9PH, IBAN DE89 3704 0044 0532 0130 00.
    """.utf8)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let set: RuleSet
    do {
        set = try RuleLoader.load(files: [(name: "fuzz.yaml", contents: text)])
    } catch {
        invariant(!error.problems.isEmpty, "RuleLoadError without problems")
        return 0
    }
    let inspector = BodyInspector(rules: set, fingerprintKey: FuzzInspector.fingerprintKey)
    _ = try? inspector.inspect(body: sample, contentType: "text/plain", contentEncoding: nil,
                               policy: FuzzInspector.redactEverything, deadline: .after(milliseconds: 2000))
    return 0
}
