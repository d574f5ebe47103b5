// Worst-case inputs for the rule engine (issue 12, defect 3): texts built to make each stage do the most work per
// byte: anchors with no match after them (`@`, `-----BEGIN `), keyword floods, digit runs the digit rules window,
// runs of the characters generic values are made of, and separators. `--hostile` scans each and reports MB/s per
// CPU-second against the 50 MB/s floor; a text the engine refuses (a PCRE2 limit) counts as decided, and says so.

/// One hostile text: `unit` repeated to `bytes`.
struct HostileText {
    let label: String
    let unit: String

    func bytes(_ count: Int) -> [UInt8] {
        let unit = Array(self.unit.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(count)
        while out.count < count { out.append(contentsOf: unit.prefix(count - out.count)) }
        return out
    }
}

let hostileTexts: [HostileText] = [
    HostileText(label: "@ run", unit: "@"),
    HostileText(label: "a@ repeated", unit: "a@"),
    HostileText(label: "a.b@c repeated", unit: "a.b@c"),
    HostileText(label: "digit run", unit: "7"),
    HostileText(label: "digit groups 1234 ", unit: "1234 "),
    HostileText(label: "digits and dashes 123-45-", unit: "123-45-"),
    HostileText(label: "+1 phone prefixes", unit: "+1 "),
    HostileText(label: "-----BEGIN  repeated", unit: "-----BEGIN "),
    HostileText(label: "PEM header then '.'", unit: "-----BEGIN RSA PRIVATE KEY-----."),
    HostileText(label: "eyJ. repeated", unit: "eyJ."),
    HostileText(label: "eyJhbGciOi. tokens", unit: "eyJhbGciOiJIUzI1NiJ9.eyJ"),
    HostileText(label: "token= repeated", unit: "token="),
    HostileText(label: "pwd=a1 repeated", unit: "pwd=a1"),
    HostileText(label: "password: run", unit: "password: aaaaaaaa1"),
    HostileText(label: "keyword flood", unit: "AKIA ghp_ xoxb- sk-ant- glpat- AIza npm_ hf_ SG. sk_live_ "),
    HostileText(label: "url with userinfo, no @", unit: "postgres://user:pass"),
    HostileText(label: "separator run -", unit: "-"),
    HostileText(label: "separator run =", unit: "="),
    HostileText(label: "separator run /", unit: "/"),
    HostileText(label: "base64 alphabet run", unit: "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0123456789+/"),
    HostileText(label: "IBAN-like GB82 ", unit: "GB82 "),
    HostileText(label: "spaces", unit: " "),
    HostileText(label: "non-ASCII é", unit: "é"),
]
