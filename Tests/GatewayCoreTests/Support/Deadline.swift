import Foundation
import Synchronization

/// A test step that did not finish in time.
struct DeadlineExceeded: Error, CustomStringConvertible {
    let what: String
    let limit: Duration
    var description: String { "\(self.what) did not finish within \(self.limit)" }
}

/// Runs `operation` and returns its result, or throws `DeadlineExceeded` after `limit` even when the operation
/// ignores cancellation (it is cancelled, but not waited for), so no test can hang the suite.
func withDeadline<T: Sendable>(
    _ limit: Duration, _ what: String = "the test", _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    let race = DeadlineRace<T>()
    return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        race.install(continuation)
        let work = Task {
            let result: Result<T, any Error>
            do { result = .success(try await operation()) } catch { result = .failure(error) }
            race.finish(with: result)
        }
        let timer = Task {
            try? await Task.sleep(for: limit)
            guard !Task.isCancelled else { return }
            if race.finish(with: .failure(DeadlineExceeded(what: what, limit: limit))) { work.cancel() }
        }
        race.setTimer(timer)
    }
}

/// Whichever of the work and the timer finishes first resumes the continuation; the other does nothing.
private final class DeadlineRace<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var timer: Task<Void, Never>?
        var finished = false
    }
    private let state = Mutex(State())

    func install(_ continuation: CheckedContinuation<T, any Error>) {
        self.state.withLock { $0.continuation = continuation }
    }

    func setTimer(_ timer: Task<Void, Never>) {
        let finished = self.state.withLock { state in
            state.timer = timer
            return state.finished
        }
        if finished { timer.cancel() }
    }

    /// Returns whether this call resumed the continuation.
    @discardableResult
    func finish(with result: Result<T, any Error>) -> Bool {
        let (continuation, timer) = self.state.withLock { state -> (CheckedContinuation<T, any Error>?, Task<Void, Never>?) in
            guard !state.finished else { return (nil, nil) }
            state.finished = true
            defer { state.continuation = nil }
            return (state.continuation, state.timer)
        }
        timer?.cancel()
        continuation?.resume(with: result)
        return continuation != nil
    }
}

/// Polls `condition` every 20 ms until it holds or `limit` passes; returns whether it held.
func eventually(within limit: Duration = .seconds(5), _ condition: @Sendable () -> Bool) async -> Bool {
    let end = ContinuousClock.now + limit
    while ContinuousClock.now < end {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return condition()
}

/// The repository's root, from this file's location (Tests/GatewayCoreTests/Support/Deadline.swift).
let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
