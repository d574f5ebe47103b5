/// `prices:` in the policy file: what tokens cost, per provider and model, so usage reads as spend. Prices are per
/// million tokens in one currency (`currency`, default USD). The first entry matching a request's provider and
/// model applies; a request no entry matches has tokens but no spend (reports count those apart).
public struct PriceTable: Sendable, Hashable {
    public var currency: String
    public var entries: [Entry]

    public struct Entry: Sendable, Hashable {
        /// `provider`, default any.
        public var provider: String?
        /// `model`: a glob (`gpt-4o-mini*`, `claude-*`).
        public var model: GlobPattern
        /// `input`, `output`, `cached_input`: per million tokens. Cached input defaults to the input price.
        public var input: Double
        public var output: Double
        public var cachedInput: Double?

        public init(provider: String?, model: GlobPattern, input: Double, output: Double, cachedInput: Double? = nil) {
            self.provider = provider
            self.model = model
            self.input = input
            self.output = output
            self.cachedInput = cachedInput
        }

        /// The cost of one request's tokens. `prompt` includes the cached tokens (as both APIs count them).
        public func cost(prompt: Int, completion: Int, cached: Int) -> Double {
            let uncached = max(0, prompt - cached)
            return (Double(uncached) * self.input + Double(cached) * (self.cachedInput ?? self.input)
                + Double(completion) * self.output) / 1_000_000
        }
    }

    public init(currency: String = "USD", entries: [Entry] = []) {
        self.currency = currency
        self.entries = entries
    }

    public func price(provider: String?, model: String?) -> Entry? {
        guard let model else { return nil }
        return self.entries.first { entry in
            (entry.provider == nil || entry.provider == provider) && entry.model.matches(model)
        }
    }
}
