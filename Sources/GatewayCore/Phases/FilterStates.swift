/// The filters' own states for one request (each filter's `State`), in filter order.
///
/// Built when the request starts. A stateful filter's state lives in a box of its own, changed in place by its
/// hooks (no copy or re-boxing per hook call); a stateless filter's slot is a shared placeholder. When no filter keeps
/// state the request holds nothing at all. Opaque to filters: each hook is handed its own filter's state.
public struct FilterStates: @unchecked Sendable {
    // `@unchecked`: a request's states travel with it (to the inspection pool and back) but are reached by one
    // thread at a time, the request's.
    private var slots: [AnyObject]

    init(_ filters: [any GatewayFilter], anyStateful: Bool) {
        self.slots = anyStateful ? filters.map { $0.makeStateSlot() } : []
    }

    /// Runs `body` on the state of `filter`, the filter at `index`.
    func access<Filter: GatewayFilter, Result>(
        _ filter: Filter, at index: Int, _ body: (inout Filter.State) throws(GatewayError) -> Result
    ) throws(GatewayError) -> Result {
        guard !Filter.isStateless else {
            // `State` is `Void`: a value of no size, nothing stored.
            var unit = unsafeBitCast((), to: Filter.State.self)
            return try body(&unit)
        }
        let box = unsafeDowncast(self.slots[index], to: StateBox<Filter.State>.self)
        return try body(&box.value)
    }

    /// `access` for hooks that cannot fail.
    func visit<Filter: GatewayFilter>(_ filter: Filter, at index: Int, _ body: (inout Filter.State) -> Void) {
        guard !Filter.isStateless else {
            var unit = unsafeBitCast((), to: Filter.State.self)
            return body(&unit)
        }
        body(&unsafeDowncast(self.slots[index], to: StateBox<Filter.State>.self).value)
    }

    /// The state of the filter at `index` (for the complete phase, which only reads it).
    func state<Filter: GatewayFilter>(of filter: Filter, at index: Int) -> Filter.State {
        Filter.isStateless
            ? unsafeBitCast((), to: Filter.State.self)
            : unsafeDowncast(self.slots[index], to: StateBox<Filter.State>.self).value
    }

    /// A copy whose stateful filters' states are boxed anew: what is handed to the inspection pool, so the request
    /// on the loop and the copy never share a box.
    func copied(_ filters: [any GatewayFilter]) -> FilterStates {
        var copy = self
        copy.slots = zip(filters, self.slots).map { $0.copySlot($1) }
        return copy
    }
}

/// One stateful filter's state for one request.
final class StateBox<State>: @unchecked Sendable {
    var value: State
    init(_ value: State) { self.value = value }
}

/// The slot of a stateless filter.
private final class NoState: Sendable {
    static let shared = NoState()
}

extension GatewayFilter {
    fileprivate func makeStateSlot() -> AnyObject { Self.isStateless ? NoState.shared : StateBox(self.makeState()) }

    fileprivate func copySlot(_ slot: AnyObject) -> AnyObject {
        Self.isStateless ? slot : StateBox(unsafeDowncast(slot, to: StateBox<State>.self).value)
    }
}
