import Synchronization

extension Engine {
    /// A batch whose rules have run and whose store write is under way (see ``Engine/ingestOverlapped(_:)``).
    public struct PendingIngest: Sendable {
        let outcomes: [IngestOutcome]
        let write: Task<Void, any Error>

        /// Waits until the batch is in the store and returns what happened to each event, in order. Throws the
        /// store's error when the write failed: then nothing of this batch is applied, nor of any batch ingested
        /// after it, and the engine has gone back to the store's state.
        public func durable() async throws -> [IngestOutcome] {
            try await write.value
            return outcomes
        }
    }

    /// Applies `events` like ``ingest(_:)-([Event])``, but returns once the rules have run, while the store writes
    /// the batch: a bulk replay runs the rules of its next batch during that write, keeping both busy. Await
    /// ``PendingIngest/durable()`` for the outcomes.
    ///
    /// Writes happen in order, one at a time, and at most ``maximumWritesInFlight`` batches are written or waiting
    /// to be: the rules run ahead of the store by that many batches, which evens out batches that take the rules
    /// longer than the store or the other way round. Every other operation of the engine waits for the writes before
    /// it starts. Meanwhile the engine's queries already see the batches. Unlike ``ingest(_:)-([Event])``, a batch
    /// the store refuses because another process changed one of its customers is not retried: the error reaches the
    /// caller, who can ingest the same events again (what was applied is recognised by event id).
    public func ingestOverlapped(_ events: [Event]) async throws -> PendingIngest {
        try await serial.withLock {
            if hasFailedWrite { try await settleInFlightWrites() }
            try await loadSerially(settlingWrites: false)
            var (batch, outcomes) = try await evaluate(events, writing: inFlight.map(\.eventIDs))
            // The rules ran while earlier batches were written; wait until there is room for this one.
            while inFlight.count >= Self.maximumWritesInFlight { try await settleOldestWrite() }
            if hasFailedWrite { try await settleInFlightWrites() }
            let previous = inFlight.last?.task
            // Durable once the writes before it are: its duplicates may be events those writes carry.
            guard !batch.commits.isEmpty else {
                return PendingIngest(outcomes: outcomes, write: Task { try await previous?.value })
            }
            stampVersions(of: &batch)
            let commits = batch.commits
            let notifications = batch.notifications
            let (store, outlet) = (self.store, self.outlet)
            let failure = WriteFailure()
            let write = Task {
                do {
                    // In order: after the batch before, and not at all when that one failed.
                    try await store.apply(commits, after: previous)
                } catch {
                    failure.happened.store(true, ordering: .releasing)
                    throw error
                }
                // Writes run one at a time, so notifications keep their order.
                outlet.publish(notifications)
            }
            var eventIDs = Set<String>(minimumCapacity: commits.count)
            for index in commits.indices where commits[index].recordsEventID { eventIDs.insert(commits[index].eventID) }
            inFlight.append(InFlightWrite(task: write, eventIDs: eventIDs, countsBefore: counts, failure: failure))
            absorb(batch)
            return PendingIngest(outcomes: outcomes, write: write)
        }
    }

    /// Whether a write in flight is known to have failed (without waiting for the others).
    var hasFailedWrite: Bool { inFlight.contains(where: \.hasFailed) }

    /// How many overlapped batches may be written or waiting to be at once: the slack for a write that stalls (on a
    /// slow disk, or a checkpoint's sync). Three rather than two was 4 % faster on the CDNOW replay into SQLite while
    /// the store checkpointed inside its commits; since it checkpoints beside them, two and three measure the same,
    /// and three stays for slower disks, at the cost of one more batch of commits in memory.
    public static let maximumWritesInFlight = 3

    /// Waits for every write overlapped ingestions left running. When one failed, forgets the state they had
    /// absorbed (the next operation reads the store's) and throws its error.
    func settleInFlightWrites() async throws {
        while !inFlight.isEmpty { try await settleOldestWrite() }
    }

    /// Waits for the oldest write in flight; see ``settleInFlightWrites()``.
    private func settleOldestWrite() async throws {
        let write = inFlight.removeFirst()
        do {
            try await write.task.value
        } catch {
            // The writes after it fail with it (each waits for the one before); none of them is in the store.
            for later in inFlight { _ = try? await later.task.value }
            inFlight = []
            counts = write.countsBefore
            reset()
            throw error
        }
    }
}

/// The store write an overlapped ingestion started, and what the engine needs if it fails.
struct InFlightWrite {
    let task: Task<Void, any Error>
    /// The events it writes, which the store cannot report as applied before the write ends.
    let eventIDs: Set<String>
    /// The engine's counters before the batch was absorbed, restored when the write fails.
    let countsBefore: Engine.Counts
    /// Set when the write failed (read without waiting for it).
    let failure: WriteFailure

    var hasFailed: Bool { failure.happened.load(ordering: .acquiring) }
}

/// Whether a write running in its own task failed, readable without awaiting the task.
final class WriteFailure: Sendable {
    let happened = Atomic<Bool>(false)
}
