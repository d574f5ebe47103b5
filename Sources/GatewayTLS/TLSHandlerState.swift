import NIOCore

/// Where a TLS handler is in the life of its connection. Transitions only move forward:
///
///     idle ──channel active──▶ handshaking ──handshake done──▶ active ──close()/close_notify──▶ closing ──▶ closed
///       └──────────────┴────────────── failure or EOF at any point ──────────────────────────────────▶ closed
enum TLSHandlerState {
    /// Waiting for the channel to become active.
    case idle
    /// Exchanging handshake records; application writes are held back.
    case handshaking
    /// The peer is verified; application data flows both ways.
    case active
    /// Our close_notify is out; waiting for the peer's, bounded by `timeout`.
    case closing(timeout: Scheduled<Void>?)
    /// Nothing more will be read or written.
    case closed

    var isClosingOrClosed: Bool {
        switch self {
        case .closing, .closed: true
        case .idle, .handshaking, .active: false
        }
    }
}
