import Foundation

/// The post-match check a rule names in its `validator` field.
public enum RuleValidator: Sendable, Hashable {
    case luhn
    case iban
    case usSSN
    case caSIN
    case abaRouting
    case jwt
    case paymentCard
    case phone
    /// Shannon entropy of the value must be at least this many bits per character.
    case entropy(Double)
    /// A literal secret: 8 to 128 characters, at least one ASCII digit and one ASCII letter, and entropy of at least
    /// this many bits. Checked here rather than in the pattern: lookaheads and a bounded repeat there re-read the
    /// value from every keyword inside it (a flood of `token=` cost 21 steps per byte; bench/rules-bench --hostile).
    case secretValue(Double)

    /// Parses `luhn`, `iban`, `us_ssn`, `ca_sin`, `aba_routing`, `jwt`, `payment_card`, `phone`, or `entropy: 3.5` / `entropy:3.5`.
    public init?(ruleFileName name: String) {
        let trimmed = name.trimmingCharacters(in: .whitespaces).lowercased()
        switch trimmed {
        case "luhn": self = .luhn
        case "iban": self = .iban
        case "us_ssn", "ssn": self = .usSSN
        case "ca_sin", "sin": self = .caSIN
        case "aba_routing", "aba": self = .abaRouting
        case "jwt": self = .jwt
        case "payment_card", "card": self = .paymentCard
        case "phone": self = .phone
        default:
            guard let colon = trimmed.firstIndex(of: ":"),
                let bits = Double(trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            else { return nil }
            switch trimmed[..<colon].trimmingCharacters(in: .whitespaces) {
            case "entropy": self = .entropy(bits)
            case "secret_value": self = .secretValue(bits)
            default: return nil
            }
        }
    }

    /// Runs the check on a candidate value.
    public func accepts(_ value: Substring) -> Bool {
        switch self {
        case .luhn: return Validators.luhn(value)
        case .iban: return Validators.iban(value)
        case .usSSN: return Validators.usSSN(value)
        case .caSIN: return Validators.caSIN(value)
        case .abaRouting: return Validators.abaRouting(value)
        case .jwt: return Validators.jwt(value)
        case .paymentCard: return Validators.paymentCard(value)
        case .phone: return Validators.phone(value)
        case .entropy(let bits): return Validators.shannonEntropy(value) >= bits
        case .secretValue(let bits):
            return (8...128).contains(value.utf8.count)
                && value.utf8.contains { $0 &- UInt8(ascii: "0") < 10 }
                && value.utf8.contains { ($0 | 0x20) &- UInt8(ascii: "a") < 26 }
                && Validators.shannonEntropy(value) >= bits
        }
    }
}
