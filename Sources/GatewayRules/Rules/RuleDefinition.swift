/// The YAML shape of one rule file, decoded loosely (every field optional) so the loader can report every
/// missing or malformed field of every rule at once instead of stopping at the first.
struct RuleFileDocument: Decodable {
    var rules: [RuleDefinition]?
}

/// One rule as written in YAML. See `rules/README.md` style comments at the top of each rule file.
struct RuleDefinition: Decodable {
    var id: String?
    var description: String?
    var category: String?
    var type: String?
    var pattern: String?
    var flags: [String]?
    var group: Int?
    var keywords: [String]?
    var anchor: String?
    var window: Int?
    var window_before: Int?
    var requires: String?
    var digit_shape: String?
    var start_run: String?
    var min_start_run: Int?
    var validator: ValidatorField?
    var context: ContextDefinition?
    var confidence: Double?
    var allow: AllowDefinition?
    var redaction: String?
    var examples: ExamplesDefinition?
    var enabled: Bool?
    /// `live` (default) or `shadow`: a shadow rule runs beside the live set and only reports what it would do.
    var mode: String?
}

/// `validator: luhn` or `validator: {entropy: 3.5}` or `validator: "entropy: 3.5"`, or `{secret_value: 3.0}`.
struct ValidatorField: Decodable {
    var spelling: String

    init(from decoder: any Decoder) throws {
        if let single = try? decoder.singleValueContainer().decode(String.self) {
            self.spelling = single
            return
        }
        let keyed = try decoder.container(keyedBy: Keys.self)
        if let bits = try keyed.decodeIfPresent(Double.self, forKey: .secret_value) {
            self.spelling = "secret_value: \(bits)"
            return
        }
        let bits = try keyed.decode(Double.self, forKey: .entropy)
        self.spelling = "entropy: \(bits)"
    }

    enum Keys: String, CodingKey { case entropy, secret_value }
}

struct ContextDefinition: Decodable {
    var window: Int?
    var window_before: Int?
    var raise: [String]?
    var lower: [String]?
    var step: Double?
    var direction: String?
}

struct AllowDefinition: Decodable {
    var values: [String]?
    var patterns: [String]?
}

struct ExamplesDefinition: Decodable {
    var match: [String]?
    var no_match: [String]?
}
