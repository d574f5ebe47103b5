import NIOCore

/// Which wait a caller connection is in, and how long it may last: the connection's timeouts as a state machine.
/// Each transition returns what to do with the connection's one timer; `ConnectionTimeoutHandler` carries it out.
///
/// ```
/// handshaking ──handshake done──▶ awaitingHead ──first byte──▶ readingHead ──head──▶ readingBody ──end──▶ busy
///                                     ▲  (head timeout from the handshake)                                │
///                                     └───── idle (keep-alive timeout) ◀───────── response ended ─────────┘
///                                            └──first byte──▶ readingHead
/// ```
/// `busy` has no timer: the request is being inspected, recorded or relayed, and the upstream timeouts bound it.
/// Bytes that arrive while busy belong to a pipelined request and start nothing until the response has ended.
struct ConnectionClock {
    enum State: Equatable {
        case handshaking
        case awaitingHead
        case idle
        case readingHead
        case readingBody
        case busy
    }

    /// What the timer does after a transition.
    enum TimerAction: Equatable {
        /// (Re)arm for this long; when it fires, the connection closes and `limit` is counted.
        case arm(TimeAmount, ProtectiveLimit)
        case cancel
        case keep
    }

    let limits: Limits
    private(set) var state = State.handshaking

    struct Limits: Equatable {
        var handshake: TimeAmount
        var head: TimeAmount
        var body: TimeAmount
        var keepAlive: TimeAmount
    }

    init(limits: Limits) { self.limits = limits }

    /// The connection was accepted: the TLS handshake's timer starts.
    func accepted() -> TimerAction { .arm(self.limits.handshake, .tlsHandshakeTimeout) }

    mutating func handshakeCompleted() -> TimerAction {
        guard self.state == .handshaking else { return .keep }
        self.state = .awaitingHead
        return .arm(self.limits.head, .requestHeadTimeout)
    }

    /// Decrypted request bytes arrived.
    mutating func bytesReceived() -> TimerAction {
        switch self.state {
        case .idle:
            self.state = .readingHead
            return .arm(self.limits.head, .requestHeadTimeout)
        case .awaitingHead:
            self.state = .readingHead
            return .keep  // the head timeout already runs from the handshake
        case .handshaking, .readingHead, .readingBody, .busy:
            return .keep
        }
    }

    /// A complete request head was parsed; its body (if any) is read next.
    mutating func headReceived() -> TimerAction {
        self.state = .readingBody
        return .arm(self.limits.body, .requestBodyTimeout)
    }

    /// The request's last byte arrived: the gateway works on it now.
    mutating func bodyReceived() -> TimerAction {
        self.state = .busy
        return .cancel
    }

    /// The response ended and the connection stays open for the next request.
    mutating func responseEnded() -> TimerAction {
        self.state = .idle
        return .arm(self.limits.keepAlive, .keepAliveTimeout)
    }
}
