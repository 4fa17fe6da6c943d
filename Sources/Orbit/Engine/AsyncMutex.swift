import Synchronization

/// A lock for async critical sections, granted in arrival order (first in, first out).
///
/// Why: an actor serialises its synchronous code only. An actor method that awaits (the engine awaiting its store)
/// lets a second call of the same method run in the gap, read state the first has not merged yet, and overwrite it
/// afterwards. Everything that reads the engine's state, awaits, and then writes it back (ingestion, advancing time,
/// checkout commits) runs inside ``withLock(isolation:_:)`` instead, so each such section sees what the previous one
/// left.
///
/// - Not reentrant: calling `withLock` from inside its own body waits forever.
/// - A waiting task is not woken by cancellation: it waits for its turn, and the body decides what cancellation
///   means (the engine's bodies never leave half-applied state, so a late cancellation only delays an error).
/// - Uncontended, it takes the lock without suspending; the body runs in the caller's isolation (no actor hop).
final class AsyncMutex: Sendable {
    private struct State {
        var isLocked = false
        /// Tasks waiting for the lock, oldest first. Unlocking hands the lock to the first directly.
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    init() {}

    /// Runs `body` once every section that asked for the lock before has finished, and before any that asks later.
    func withLock<Result>(
        isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> sending Result
    ) async rethrows -> sending Result {
        await lock(isolation: isolation)
        defer { unlock() }
        return try await body()
    }

    private func lock(isolation: isolated (any Actor)?) async {
        let acquired = state.withLock { state in
            guard !state.isLocked else { return false }
            state.isLocked = true
            return true
        }
        if acquired { return }
        await withCheckedContinuation(isolation: isolation) { (continuation: CheckedContinuation<Void, Never>) in
            let handedOver = state.withLock { state in
                // Unlocked between the two checks: take it now rather than wait for a hand-over that never comes.
                guard state.isLocked else {
                    state.isLocked = true
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if handedOver { continuation.resume() }
        }
    }

    private func unlock() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.waiters.isEmpty else {
                state.isLocked = false
                return nil
            }
            return state.waiters.removeFirst()  // stays locked: the lock passes to the next waiter
        }
        next?.resume()
    }
}
