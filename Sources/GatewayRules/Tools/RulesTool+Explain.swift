import Foundation

extension RulesTool {
    /// Every candidate the rules' patterns matched in a text or JSON body, and what became of it: reported (with
    /// confidence and the context words that moved it), or refused by a validator, an allow-list entry, the
    /// placeholder check, or the minimum confidence. Values are masked; texts are named by where they are.
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

    /// Runs the inspection `test` runs, with a trace: the texts, documents and member-name pairs are those the
    /// gateway scans.
    public static func explain(
        input: [UInt8], inspector: BodyInspector, policy: CategoryPolicy = .default
    ) -> Explanation {
        let trace = ScanTrace()
        _ = try? Self.test(input: input, inspector: inspector, policy: policy, trace: trace)
        var texts: [(location: String, events: [ScanTrace.Event])] = []
        for event in trace.events {
            if texts.last?.location == event.location {
                texts[texts.count - 1].events.append(event)
            } else {
                texts.append((event.location, [event]))
            }
        }
        return Explanation(texts: texts)
    }
}
