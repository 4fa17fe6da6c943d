import ArgumentParser
import Foundation
import Logging
import Orbit
import OrbitSQLite

/// `orbit replay`: runs history through the rules into a store, and says what happened.
struct Replay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay events through the rules into the store, and print a summary.",
        discussion: """
            FILE is NDJSON (.ndjson, .jsonl), or CSV/text read through --mapping (see examples/loyalty/data/README.md). \
            Events are idempotent by id: replaying the same file twice into the same database applies nothing the \
            second time. A bad line is reported with its number and skipped; --strict stops at the first one.
            """
    )

    @Option(help: "Directory of rule files (*.lua).")
    var rules: String

    @OptionGroup var storage: StoreOptions

    @Option(help: "CSV column mapping (JSON) for CSV or text input.")
    var mapping: String?

    @Flag(help: "Print the summary as one JSON object.")
    var json = false

    @Flag(help: "Stop at the first rejected event or bad line.")
    var strict = false

    /// 2,500: on the CDNOW replay a tenth faster than 1,000 (fewer transactions, and a customer seen several times in
    /// a batch is written once), for ≈ 25 MiB more peak memory (122–137 against 100–111 MiB; docs/benchmarks.md).
    @Option(help: "Events per transaction.")
    var batchSize: Int = 2_500

    @Option(help: "Threads that run the rules at once, each with its own copy of them (default: 2, or 1 on one core).")
    var threads = Engine.defaultEvaluationThreads

    @Argument(help: "Event files, replayed in order.")
    var files: [String]

    @OptionGroup var limits: LimitOptions

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        guard threads > 0 else { throw ValidationError("--threads must be positive") }
    }

    func run() async throws {
        let logger = Logger.toStandardError(label: "orbit.replay")
        let book: RuleBook
        do {
            book = try RuleBook(directory: rules, limits: limits.limits, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode.failure
        }
        let store = try storage.store()
        let clock = ManualClock(Instant(millisecondsSinceEpoch: 0))
        let engine = Engine(rules: book, store: store, clock: clock, logger: logger, evaluationThreads: threads)
        var summary = ReplaySummary()
        var progress = Progress(enabled: !json)
        let started = ContinuousClock.now

        // Without --strict, the store writes batches while the rules run the next (see Engine.ingestOverlapped).
        var writing: [(pending: Engine.PendingIngest, lines: [Int], file: String)] = []
        /// Waits for the batches being written, all or all but `keeping` of the latest, and counts their outcomes.
        func settle(keeping: Int = 0) async throws {
            while writing.count > keeping {
                let (pending, lines, file) = writing.removeFirst()
                _ = count(try await pending.durable(), lines: lines, file: file, into: &summary)
            }
        }
        /// Starts one batch, the events read from `lines` of `file`; returns whether it must stop the replay (--strict
        /// and a rejected event).
        func run(_ events: [Event], lines: [Int], file: String) async throws -> Bool {
            // The latest instant of the batch, not its last event's: files ordered by customer go back in time
            // between customers, and the replay ends at the latest instant it saw, whatever the batch size.
            guard let latest = events.lazy.map(\.at).max() else { return false }
            clock.advance(to: latest)
            if strict {
                return count(try await engine.ingest(events), lines: lines, file: file, into: &summary)
            }
            writing.append((try await engine.ingestOverlapped(events), lines, file))
            // The engine waited for the batches before the ones it still writes: count their outcomes.
            try await settle(keeping: Engine.maximumWritesInFlight)
            return false
        }

        for file in files {
            let format = try EventFormat.detect(path: file, mappingPath: mapping)
            let reader = try EventReader(path: file, format: format)
            var chunks = ChunkedEventReader(reader, eventsPerChunk: batchSize)
            while let chunk = await chunks.next() {
                var events: [Event] = []
                var lines: [Int] = []
                events.reserveCapacity(chunk.count)
                lines.reserveCapacity(chunk.count)
                for (line, result) in chunk {
                    summary.read += 1
                    switch result {
                    case .success(let event):
                        events.append(event)
                        lines.append(line)
                    case .failure(let error):
                        summary.reject(file: file, line: line, reason: error.message)
                        if strict {
                            return try await finish(summary, engine: engine, started: started, failed: true)
                        }
                    }
                }
                if try await run(events, lines: lines, file: file) {
                    return try await finish(summary, engine: engine, started: started, failed: true)
                }
                progress.report(summary.read, elapsed: started.duration(to: .now))
            }
        }
        try await settle()
        progress.done()
        try await engine.advance(to: clock.now())
        summary.lapses = await engine.lapseCount
        summary.endTime = clock.now()
        try await finish(summary, engine: engine, started: started, failed: false)
    }

    /// Counts the outcomes of one batch; returns whether any event of it was rejected.
    private func count(
        _ outcomes: [IngestOutcome], lines: [Int], file: String, into summary: inout ReplaySummary
    ) -> Bool {
        var rejected = false
        for (line, outcome) in zip(lines, outcomes) {
            switch outcome.status {
            case .applied: summary.applied += 1
            case .duplicate: summary.duplicates += 1
            case .rejected(let reason):
                summary.reject(file: file, line: line, reason: reason)
                rejected = true
            }
        }
        return rejected
    }

    private func finish(
        _ partial: ReplaySummary, engine: Engine, started: ContinuousClock.Instant, failed: Bool
    ) async throws {
        var summary = partial
        summary.elapsed = started.duration(to: .now)
        let activity = await engine.activity
        summary.pointsIssued = activity.pointsIssued
        summary.pointsSpent = activity.pointsSpent
        summary.pointsExpired = activity.pointsExpired
        summary.messagesQueued = activity.messagesQueued
        summary.tiers = try await engine.tierCounts()
        summary.effectsPerRule = await engine.effectCounts
        summary.segments = try await engine.segmentMembers(at: summary.endTime ?? Instant(millisecondsSinceEpoch: 0))
            .mapValues(\.count)
        print(json ? summary.json : summary.text)
        if failed || (strict && summary.rejected > 0) { throw ExitCode.failure }
    }
}
