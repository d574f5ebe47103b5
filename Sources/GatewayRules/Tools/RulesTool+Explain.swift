import Foundation

extension RulesTool {
    /// Every candidate the rules' patterns matched in a text or JSON body, and what became of it: reported (with
    /// confidence and the context words that moved it), or refused by a validator, an allow-list entry, the
    /// placeholder check, or the minimum confidence. Values are masked. A JSON body is explained string by string
    /// (as the inspector scans it); anything else as one text.
    public struct Explanation: Sendable {
        public let texts: [(location: String, events: [ScanTrace.Event])]

        public func render() -> String {
            var lines: [String] = []
            for (location, events) in self.texts where !events.isEmpty {
                lines.append("\(location):")
                for event in events {
                    lines.append("  \(event.rule) at bytes \(event.span.lowerBound)..<\(event.span.upperBound) \(event.maskedValue): "
                                 + Self.describe(event.outcome))
                }
            }
            return lines.isEmpty ? "no rule's pattern matched anything\n" : lines.joined(separator: "\n") + "\n"
        }

        static func describe(_ outcome: ScanTrace.Outcome) -> String {
            func words(_ raised: [String], _ lowered: [String]) -> String {
                var parts: [String] = []
                if !raised.isEmpty { parts.append("raised by " + raised.joined(separator: ", ")) }
                if !lowered.isEmpty { parts.append("lowered by " + lowered.joined(separator: ", ")) }
                return parts.isEmpty ? "" : " (" + parts.joined(separator: "; ") + ")"
            }
            switch outcome {
            case .accepted(let confidence, let raised, let lowered):
                return String(format: "REPORTED, confidence %.2f", confidence) + words(raised, lowered)
            case .validatorRejected(let validator): return "refused by the validator \(validator)"
            case .placeholder: return "refused: a documentation placeholder"
            case .allowedValue: return "allowed: the value is on the rule's allow list"
            case .allowedPattern(let pattern): return "allowed by the allow pattern \(pattern)"
            case .belowMinimum(let confidence, let minimum, let raised, let lowered):
                return String(format: "dropped: confidence %.2f below %.2f", confidence, minimum) + words(raised, lowered)
            }
        }
    }

    public static func explain(input: [UInt8], rules: RuleSet, minimumConfidence: Double = 0.5) -> Explanation {
        var texts: [(String, String)] = []
        if let json = try? JSONSerialization.jsonObject(with: Data(input), options: [.fragmentsAllowed]) {
            func walk(_ value: Any, _ path: String) {
                switch value {
                case let text as String: texts.append((path.isEmpty ? "$" : path, text))
                case let array as [Any]: for (index, element) in array.enumerated() { walk(element, "\(path)[\(index)]") }
                case let object as [String: Any]:
                    for key in object.keys.sorted() { walk(object[key]!, path.isEmpty ? key : "\(path).\(key)") }
                default: break
                }
            }
            walk(json, "")
        } else {
            texts.append(("text", String(decoding: input, as: UTF8.self)))
        }
        var explained: [(location: String, events: [ScanTrace.Event])] = []
        rules.withSession { session in
            for (location, text) in texts {
                let trace = ScanTrace()
                var scanner = TextScanner(ruleSet: rules, session: session, minimumConfidence: minimumConfidence, deadline: .none)
                scanner.trace = trace
                let normalized = TextNormalizer.normalize(text)
                _ = normalized.bytes.withUnsafeBufferPointer { buffer in try? scanner.scan(buffer) }
                explained.append((location, trace.events))
            }
        }
        return Explanation(texts: explained)
    }
}
