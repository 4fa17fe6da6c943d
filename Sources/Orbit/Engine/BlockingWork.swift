import Dispatch

/// Runs CPU-bound `work` (decoding a file, encoding a batch) on a Dispatch queue and awaits its result.
///
/// Swift's cooperative pool has as many threads as the machine has cores; work that holds one of them for
/// milliseconds keeps the engine's own jobs waiting for a thread even when a core is free. Dispatch's threads are
/// not so limited, and the caller's task is suspended, not blocking, while the work runs.
package func runBlocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
    }
}

/// ``runBlocking(_:)-(()->T)`` for work that cannot fail.
package func runBlocking<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(returning: work()) }
    }
}
