/// The `review:` and `prices:` sections of the policy file.
extension PolicyDecoder {
    func decodeReview(_ review: YAMLMapping, roleNames: Set<String>?) -> ReviewPolicy {
        let escalation = review.section("escalate") { escalate in
            ReviewPolicy.Escalation(
                categories: Set(names(escalate, "categories", valid: Self.isCategoryName, what: "category")),
                rules: Set(names(escalate, "rules", valid: { !$0.isEmpty }, what: "rule id")),
                roles: Set(names(escalate, "roles", valid: { roleNames?.contains($0) ?? true }, what: "role")),
                belowConfidence: escalate.value("below_confidence").flatMap { share($0) })
        }
        let maxAgeHours = review.value("max_age_hours").flatMap { number($0, in: 0.01...24 * 365) }
        let sampling = review.section("sampling") { sampling in
            SamplingShares(
                defaultShare: sampling.value("default").flatMap { share($0) } ?? 0,
                roles: shares(sampling, "roles", known: roleNames, what: "role"),
                providers: shares(sampling, "providers", known: providerNames, what: "provider"))
        }
        let targets = review.section("targets") { targets in
            ReviewTargets(
                coverage: targets.value("coverage").flatMap { share($0) },
                maxFalsePositiveRate: targets.value("max_false_positive_rate").flatMap { share($0) },
                maxMissedRate: targets.value("max_missed_rate").flatMap { share($0) },
                ruleFalsePositiveRates: falsePositiveRates(targets, "rules"),
                categoryFalsePositiveRates: falsePositiveRates(targets, "categories"))
        }
        let drift = review.section("drift") { drift in
            DriftSettings(
                tolerance: drift.value("tolerance").flatMap { number($0, in: 0.01...100) } ?? DriftSettings().tolerance,
                minimumHits: drift.int("min_hits", default: DriftSettings().minimumHits, in: 1...1_000_000))
        }
        return ReviewPolicy(
            escalation: escalation,
            maxQueueAgeSeconds: maxAgeHours.map { Int(($0 * 3600).rounded()) } ?? ReviewPolicy.defaultMaxQueueAgeSeconds,
            sampling: sampling, targets: targets, drift: drift)
    }

    func decodePrices(_ prices: YAMLMapping) -> PriceTable {
        let currency = prices.string("currency", default: "USD")
        var entries: [PriceTable.Entry] = []
        for element in prices.value("models")?.sequence() ?? [] {
            guard let mapping = element.mapping() else { continue }
            defer { mapping.finish() }
            let provider = mapping.optionalString("provider")
            if let provider, let providerNames, !providerNames.contains(provider) {
                mapping.value("provider")?.problem("unknown provider '\(provider)'")
            }
            let model = mapping.value("model").flatMap { value -> GlobPattern? in
                guard let text = value.string() else { return nil }
                do { return try GlobPattern(text) } catch {
                    value.problem("invalid glob '\(text)': \(error)")
                    return nil
                }
            }
            if mapping.value("model") == nil { mapping.missing("model", "a model glob, e.g. gpt-4o-mini*") }
            let input = mapping.value("input").flatMap { number($0, in: 0...1_000_000) }
            let output = mapping.value("output").flatMap { number($0, in: 0...1_000_000) }
            if mapping.value("input") == nil { mapping.missing("input", "price per million input tokens") }
            if mapping.value("output") == nil { mapping.missing("output", "price per million output tokens") }
            let cached = mapping.value("cached_input").flatMap { number($0, in: 0...1_000_000) }
            guard let model, let input, let output else { continue }
            entries.append(PriceTable.Entry(provider: provider, model: model, input: input, output: output, cachedInput: cached))
        }
        return PriceTable(currency: currency, entries: entries)
    }

    private func names(_ mapping: YAMLMapping, _ key: String, valid: (String) -> Bool, what: String) -> [String] {
        guard let list = mapping.value(key)?.sequence() else { return [] }
        return list.compactMap { element in
            guard let name = element.string() else { return nil }
            guard valid(name) else {
                element.problem("unknown or invalid \(what) '\(name)'")
                return nil
            }
            return name
        }
    }

    private func shares(_ mapping: YAMLMapping, _ key: String, known: Set<String>?, what: String) -> [String: Double] {
        guard let section = mapping.value(key)?.mapping() else { return [:] }
        var result: [String: Double] = [:]
        for (name, value) in section.allEntries() {
            if let known, !known.contains(name) {
                value.problem("unknown \(what) '\(name)'")
                continue
            }
            if let share = share(value) { result[name] = share }
        }
        return result
    }

    private func falsePositiveRates(_ mapping: YAMLMapping, _ key: String) -> [String: Double] {
        guard let section = mapping.value(key)?.mapping() else { return [:] }
        var result: [String: Double] = [:]
        for (name, value) in section.allEntries() {
            guard let entry = value.mapping() else { continue }
            defer { entry.finish() }
            if let rate = entry.value("max_false_positive_rate").flatMap({ share($0) }) { result[name] = rate }
        }
        return result
    }

    /// A share between 0 and 1; `30%` is accepted too.
    private func share(_ value: YAMLValue) -> Double? {
        guard let text = value.string() else { return nil }
        let percent = text.hasSuffix("%")
        guard let number = Double(percent ? String(text.dropLast()) : text) else {
            value.problem("expected a share between 0 and 1 (or a percentage), found '\(text)'")
            return nil
        }
        let share = percent ? number / 100 : number
        guard (0...1).contains(share) else {
            value.problem("\(text) is out of range: expected 0 to 1 (0% to 100%)")
            return nil
        }
        return share
    }

    private func number(_ value: YAMLValue, in range: ClosedRange<Double>) -> Double? {
        guard let text = value.string() else { return nil }
        guard let number = Double(text), number.isFinite else {
            value.problem("expected a number, found '\(text)'")
            return nil
        }
        guard range.contains(number) else {
            value.problem("\(text) is out of range: expected \(range.lowerBound) to \(range.upperBound)")
            return nil
        }
        return number
    }
}
