import Dispatch

/// Runs CPU-bound `work` (decoding a file, encoding a batch) on a Dispatch queue and awaits its result.
///
/// Swift's cooperative pool has as many threads as the machine has cores; work that holds one of them for
/// milliseconds keeps the engine's own jobs waiting for a thread even when a core is free. Dispatch's global queue
/// has threads of its own (as many again), and the caller's task is suspended, not blocking, while the work runs.
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

/// Runs `work` for each index in `0..<count` at the same time, index 0 on the calling thread and each other on a
/// thread of its own, and returns the results in index order once all are done. `work` must touch nothing another
/// index touches.
///
/// Why threads of their own (a serial queue each, which Dispatch runs on a new thread when none is idle) rather than
/// `concurrentPerform`: that shares Dispatch's global pool, as many threads as cores, with the encoding and reading
/// of a replay. With those busy, the second shard of an evaluation waited a median 20 ms per batch for a thread while
/// the first ran alone (CDNOW replay, 2 cores).
func concurrentMap<T>(count: Int, _ work: (Int) -> T) -> [T] {
    withoutActuallyEscaping(work) { work in
        [T](unsafeUninitializedCapacity: count) { results, initialized in
            // Each index runs `work` once and writes only its own result: the caller's promise, which the compiler
            // cannot check.
            let shared = UncheckedSendable((work: work, results: results.baseAddress!))
            let queues = (1..<max(count, 1)).map { index in
                let queue = DispatchQueue(label: "orbit.concurrent-map.\(index)")
                queue.async { (shared.value.results + index).initialize(to: shared.value.work(index)) }
                return queue
            }
            if count > 0 { results.baseAddress!.initialize(to: work(0)) }
            // Waits for each queue's work, which it has also released once this returns: nothing keeps `work`.
            for queue in queues { queue.sync {} }
            initialized = count
        }
    }
}

/// A value handed to other threads on the promise that they use it safely (see ``concurrentMap(count:_:)``).
private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
