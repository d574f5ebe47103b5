import NIOCore
import Synchronization

/// Delivers work from another thread to an event loop in batches: one `execute` (and so at most one wake-up) for
/// everything posted while the loop has not yet drained the previous delivery.
///
/// The decision log completes a whole group commit at once; delivering each request's completion with its own
/// `execute` would wake the loop once per request and, on a busy core, switch threads once per request too.
final class LoopMailbox: Sendable {
    let loop: any EventLoop
    private let pending = Mutex<[@Sendable () -> Void]>([])
    private let passEndScheduled = Atomic<Bool>(false)
    private let passEnd: @Sendable () -> Void

    init(loop: any EventLoop, passEnd: @escaping @Sendable () -> Void) {
        self.loop = loop
        self.passEnd = passEnd
    }

    /// Runs `passEnd` once after the loop has handled the I/O events of its current pass (NIO runs tasks after
    /// them), however often this is called during the pass. Call on the loop.
    func requestPassEnd() {
        guard !self.passEndScheduled.exchange(true, ordering: .acquiringAndReleasing) else { return }
        self.loop.execute {
            self.passEndScheduled.store(false, ordering: .releasing)
            self.passEnd()
        }
    }

    func post(_ work: @escaping @Sendable () -> Void) {
        let first = self.pending.withLock { pending in
            pending.append(work)
            return pending.count == 1
        }
        guard first else { return }
        self.loop.execute {
            let batch = self.pending.withLock { pending in
                defer { pending.removeAll(keepingCapacity: true) }
                return pending
            }
            for work in batch { work() }
        }
    }
}

/// One mailbox per event loop, made on first use.
final class LoopMailboxes: Sendable {
    private let boxes = Mutex<[ObjectIdentifier: LoopMailbox]>([:])
    private let passEnd: @Sendable () -> Void

    /// - Parameter passEnd: what `requestPassEnd()` runs.
    init(passEnd: @escaping @Sendable () -> Void) { self.passEnd = passEnd }

    func mailbox(for loop: any EventLoop) -> LoopMailbox {
        self.boxes.withLock { boxes in
            if let box = boxes[ObjectIdentifier(loop)] { return box }
            let box = LoopMailbox(loop: loop, passEnd: self.passEnd)
            boxes[ObjectIdentifier(loop)] = box
            return box
        }
    }
}
