/// The filters' own states for one request (each filter's `State`), in filter order.
///
/// Built when the request starts; when no filter keeps state it holds nothing and costs no allocation. Opaque to
/// filters: each hook is handed its own filter's state.
public struct FilterStates: Sendable {
    private var slots: [any Sendable]

    init(_ filters: [any GatewayFilter], anyStateful: Bool) {
        self.slots = anyStateful ? filters.map { $0.makeAnyState() } : []
    }

    /// Runs `body` on the state of `filter`, the filter at `index`.
    mutating func access<Filter: GatewayFilter, Result>(
        _ filter: Filter, at index: Int, _ body: (inout Filter.State) throws(GatewayError) -> Result
    ) throws(GatewayError) -> Result {
        guard !self.slots.isEmpty else {
            // No filter keeps state, so this one's `State` is `Void`: a value of no size.
            var unit = unsafeBitCast((), to: Filter.State.self)
            return try body(&unit)
        }
        var state = self.slots[index] as! Filter.State
        defer { self.slots[index] = state }
        return try body(&state)
    }

    /// `access` for hooks that cannot fail.
    mutating func visit<Filter: GatewayFilter>(_ filter: Filter, at index: Int, _ body: (inout Filter.State) -> Void) {
        guard !self.slots.isEmpty else {
            var unit = unsafeBitCast((), to: Filter.State.self)
            return body(&unit)
        }
        var state = self.slots[index] as! Filter.State
        defer { self.slots[index] = state }
        body(&state)
    }

    /// The state of the filter at `index` (for the complete phase, which only reads it).
    func state<Filter: GatewayFilter>(of filter: Filter, at index: Int) -> Filter.State {
        self.slots.isEmpty ? unsafeBitCast((), to: Filter.State.self) : self.slots[index] as! Filter.State
    }
}

extension GatewayFilter {
    fileprivate func makeAnyState() -> any Sendable { self.makeState() }
}
