import Foundation
import GRDB
import Testing

@testable import OrbitSQLite

/// The store's WAL checkpoints, on a real database file, through the pool the store opens. What a checkpoint did is
/// read from a copy of the database file alone, without its WAL: only checkpointed rows are in it.
@Suite struct WALCheckpointerTests {
    @Test func aLargeEnoughWALIsCheckpointedBesideTheWriter() async throws {
        try await withPool(checkpointsFrom: 2, writerCheckpointsFrom: 1_000_000) { pool, checkpointer, rowsInFile in
            try insert(rows: 50, into: pool)
            checkpointer.waitForCheckpoints()
            #expect(try rowsInFile() == 50)
        }
    }

    @Test func theWriterNoLongerCheckpointsAsSQLiteWouldAt1000Pages() async throws {
        let never: Int32 = 1_000_000
        try await withPool(checkpointsFrom: never, writerCheckpointsFrom: never) { pool, checkpointer, rowsInFile in
            // About 1,500 pages: SQLite's automatic checkpoint would have copied them into the file.
            try insert(rows: 1_500, into: pool)
            checkpointer.waitForCheckpoints()
            #expect(try rowsInFile() == 0)
        }
    }

    @Test func theWriterCheckpointsItselfWhenTheWALOutgrowsTheCheckpointsBesideIt() async throws {
        try await withPool(checkpointsFrom: 1_000_000, writerCheckpointsFrom: 2) { pool, _, rowsInFile in
            try insert(rows: 50, into: pool)
            // Checkpointed by the commit itself: nothing to wait for.
            #expect(try rowsInFile() == 50)
        }
    }

    @Test func theStoreStillReadsWhatIsOnlyInTheWAL() async throws {
        try await withPool(checkpointsFrom: 1_000_000, writerCheckpointsFrom: 1_000_000) { pool, _, rowsInFile in
            try insert(rows: 50, into: pool)
            #expect(try rowsInFile() == 0)
            #expect(try pool.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM rows") } == 50)
        }
    }

    /// Runs `body` with the store's pool on a new database file, checkpointed by a checkpointer with these
    /// thresholds, and a function that counts the rows of table `rows` in a copy of the file without its WAL (0
    /// without the table).
    private func withPool(
        checkpointsFrom startsAt: Int32, writerCheckpointsFrom writerTakesOverAt: Int32,
        _ body: (DatabasePool, WALCheckpointer, () throws -> Int) throws -> Void
    ) async throws {
        try await withTemporaryDirectory { directory in
            let path = databasePath(in: directory)
            let checkpointer = WALCheckpointer(path: path, startsAt: startsAt, writerTakesOverAt: writerTakesOverAt)
            let pool = try SQLiteStore.pool(at: path, checkpointedBy: checkpointer)
            try body(pool, checkpointer) {
                let copy = directory.appendingPathComponent("file-alone-\(UUID().uuidString).db").path
                try FileManager.default.copyItem(atPath: path, toPath: copy)
                return try DatabaseQueue(path: copy).read { db in
                    try db.tableExists("rows") ? Int.fetchOne(db, sql: "SELECT count(*) FROM rows") ?? 0 : 0
                }
            }
        }
    }

    /// Creates table `rows` and inserts `count` rows of 4,000 bytes each, a page apiece, in one transaction.
    private func insert(rows count: Int, into pool: DatabasePool) throws {
        try pool.write { db in
            try db.execute(sql: "CREATE TABLE rows (id INTEGER PRIMARY KEY, data BLOB NOT NULL)")
            try db.execute(
                sql: """
                    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
                    INSERT INTO rows SELECT i, randomblob(4000) FROM n
                    """,
                arguments: [count])
        }
    }
}
