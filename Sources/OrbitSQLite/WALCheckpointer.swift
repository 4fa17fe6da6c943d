import Dispatch
import GRDB
import GRDBSQLite
import Synchronization

/// Checkpoints a database's write-ahead log beside its writer, on a connection and a thread of its own, so that the
/// writer's commits do not.
///
/// Why: SQLite's automatic checkpoint runs inside the commit that takes the WAL past 1,000 pages: that commit copies
/// the WAL into the database file and syncs both files before it returns. On the CDNOW replay that stalled the writer
/// for 40–60 ms every two or three batches, while the rules waited for it to take their next batch (see
/// docs/benchmarks.md). Here the writer's commit only notes the size of the WAL (SQLite's WAL hook, which replaces
/// the automatic checkpoint) and asks for a PASSIVE checkpoint, which SQLite runs beside the writer without blocking
/// it or any reader.
///
/// The WAL starts over from its beginning at the first write after a checkpoint has copied all of it, when no reader
/// still reads from it. When writes follow each other without a pause, a checkpoint may not finish before the next
/// one starts, and the WAL grows. From ``writerTakesOverAt`` pages the writer's commit checkpoints the WAL itself, as
/// SQLite's automatic checkpoint would (copying only what the checkpoints beside it have not), which limits how far
/// it grows. The WAL file keeps the largest size it reached until the last connection closes (11 MiB on the CDNOW
/// replay, against 7 MiB with SQLite's automatic checkpoint). Failed checkpoints are ignored, as SQLite's
/// automatic ones are: the pages stay in the WAL, readers find them there, and the next checkpoint copies them.
final class WALCheckpointer: Sendable {
    /// Pages in the WAL from which a commit asks for a checkpoint (SQLite's own threshold for its automatic one).
    let startsAt: Int32
    /// Pages in the WAL from which the committing writer checkpoints it itself.
    let writerTakesOverAt: Int32
    private let path: String
    /// The checkpoints' connection, opened by the first checkpoint: a store that never writes 1,000 pages needs none.
    private let connection = Mutex<DatabaseQueue?>(nil)
    private let queue = DispatchQueue(label: "orbit.wal-checkpoint")
    /// Whether a checkpoint has been asked for and has not started yet: commits in the meantime ask for nothing more.
    private let isRequested = Atomic<Bool>(false)

    /// A checkpointer for the database at `path`.
    init(path: String, startsAt: Int32 = 1_000, writerTakesOverAt: Int32 = 10_000) {
        self.path = path
        self.startsAt = startsAt
        self.writerTakesOverAt = writerTakesOverAt
    }

    /// Replaces SQLite's automatic checkpoint on `db`, the writer's connection, with this checkpointer. The
    /// connection must keep the checkpointer alive as long as it is open: install it from the writer's
    /// `prepareDatabase`, whose closure the connection keeps.
    func install(on db: Database) {
        sqlite3_wal_hook(
            db.sqliteConnection,
            { context, connection, schema, pages in
                guard let context else { return SQLITE_OK }
                let checkpointer = Unmanaged<WALCheckpointer>.fromOpaque(context).takeUnretainedValue()
                if pages >= checkpointer.writerTakesOverAt {
                    sqlite3_wal_checkpoint_v2(connection, schema, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
                } else if pages >= checkpointer.startsAt {
                    checkpointer.requestCheckpoint()
                }
                return SQLITE_OK
            },
            Unmanaged.passUnretained(self).toOpaque())
    }

    /// Starts a PASSIVE checkpoint on this checkpointer's thread, unless one is already waiting to start.
    private func requestCheckpoint() {
        guard !isRequested.exchange(true, ordering: .acquiringAndReleasing) else { return }
        queue.async {
            self.isRequested.store(false, ordering: .releasing)
            _ = try? self.openConnection().writeWithoutTransaction { try $0.checkpoint(.passive) }
        }
    }

    /// Waits until the checkpoints asked for so far have run (for tests).
    func waitForCheckpoints() {
        queue.sync {}
    }

    private func openConnection() throws -> DatabaseQueue {
        try connection.withLock { connection in
            if let connection { return connection }
            var configuration = Configuration()
            configuration.label = "orbit.wal-checkpoint"
            let opened = try DatabaseQueue(path: path, configuration: configuration)
            connection = opened
            return opened
        }
    }
}
