import Foundation
import GRDB
import Synchronization
public import Orbit

/// The embedded durable ``Store``: one SQLite file in WAL mode, through GRDB.
///
/// Semantics are exactly ``MemoryStore``'s: ``apply(_:)`` is all or nothing for the whole batch, an event id is
/// applied at most once, ``forget(customerID:)`` erases personal data and keeps ledger and order totals.
///
/// **Atomicity.** ``apply(_:)`` runs every commit of the batch in one write transaction; any error (a duplicate
/// event id, a storage failure) rolls the whole transaction back, so no row of the batch survives.
///
/// **Idempotency.** The primary key of `applied_events(event_id)` is the guard: inserting an event id that was
/// applied before, or that occurs twice in the batch, violates it; the store reports a ``StoreError`` and the
/// transaction rolls back. There is no read-then-write check that a concurrent writer could race. Lapses are not
/// written there (``EventCommit/recordsEventID``): the customer's state and version guard them.
///
/// **Why GRDB and not sqlite-nio.** Orbit's store work is short synchronous bursts of many small statements inside
/// one transaction (a 2,500-event replay batch is ~14,000 row writes). GRDB gives exactly that: a synchronous,
/// transaction-scoped closure on a serial writer queue (one async hop per batch, not per statement), a statement
/// cache (`cachedStatement`) so each SQL text is compiled once per connection, `DatabaseMigrator` for named,
/// ordered migrations, and `DatabasePool` (WAL) so reads run concurrently with the writer. sqlite-nio runs each
/// query as an `EventLoopFuture` on a thread pool, so every statement of a batch would pay a thread hop and a
/// future allocation, with no transaction scoping, statement cache or migrator of its own. (sqlite-nio is not in
/// the package mirror, so that comparison was not measured.)
///
/// **Encoding.** The customer is kept as JSON (readable with the `sqlite3` shell and `json_extract`) plus the
/// columns SQL needs (tier, last event instant). It is encoded before the write transaction (the writer lock is held
/// only for SQLite work) by `CustomerJSON`, which writes the bytes of the `Codable` form directly, split over the cores
/// for large batches, and once per customer per batch: when a batch holds several commits of one customer, only the
/// last state is written, which is what applying them in order leaves. Every row's values are laid out beforehand,
/// in one buffer per core (`EncodedRows`), and bound from there through SQLite's C API (`BulkStatement`), so the
/// transaction is mostly SQLite's own work (see docs/benchmarks.md).
///
/// **Identifiers.** Customer and event ids are stored in Unicode NFC, because ``MemoryStore`` keys dictionaries
/// and sets by Swift `String`, whose equality is canonical equivalence: `"café"` precomposed and decomposed are one
/// customer in both stores. ASCII ids (the usual case) skip normalisation.
public final class SQLiteStore: Store {
    /// The database: a `DatabasePool` (WAL) for files, a `DatabaseQueue` in memory.
    let writer: any DatabaseWriter
    /// For files, a read-only connection of its own for the lookup every ingested batch waits for
    /// (``appliedEventIDs(among:)``), run on the caller's thread.
    ///
    /// Why: the pool's asynchronous read hands the query to a reader's queue and the answer back, two thread switches
    /// that took 5 to 15 ms per batch on a replay keeping every core busy, for a query of half a millisecond. The
    /// pool's synchronous read would block a thread of Swift's cooperative pool until a reader is free, and the pool's
    /// readers can be held by asynchronous reads that need such a thread to give them back. This connection is used
    /// for nothing else, so a lookup waits at most for another lookup.
    private let lookup: DatabaseQueue?
    /// Where the database is, for error messages.
    let location: String

    /// Opens the database file at `path`, creating it when it does not exist, in WAL mode, and migrates its schema
    /// to the current version.
    ///
    /// The directory must exist. Other processes may open the same file: a writer waits up to five seconds for a
    /// busy database before failing. The WAL is checkpointed on a thread beside the writer, not by its commits, until
    /// it passes 10,000 pages.
    ///
    /// - Throws: ``StoreError`` when the file cannot be opened or migrated, or was written by a newer Orbit.
    public convenience init(path: String) throws {
        let pool: DatabasePool
        let lookup: DatabaseQueue
        do {
            pool = try Self.pool(at: path, checkpointedBy: WALCheckpointer(path: path))
            var readOnly = Self.configuration()
            readOnly.readonly = true
            lookup = try DatabaseQueue(path: path, configuration: readOnly)
        } catch {
            throw StoreError("cannot open \(path): \(Self.describe(error))")
        }
        try self.init(writer: pool, lookup: lookup, location: path)
    }

    /// A store in a private in-memory SQLite database, gone when the store is released. Same schema and SQL as a
    /// file (no WAL, reads and writes are serialised): for dry runs and quick tests of the SQL itself.
    ///
    /// - Throws: ``StoreError`` when SQLite cannot create the database.
    public static func inMemory() throws -> SQLiteStore {
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(configuration: configuration())
        } catch {
            throw StoreError("cannot create an in-memory database: \(describe(error))")
        }
        return try SQLiteStore(writer: queue, lookup: nil, location: ":memory:")
    }

    private init(writer: any DatabaseWriter, lookup: DatabaseQueue?, location: String) throws {
        self.writer = writer
        self.lookup = lookup
        self.location = location
        let migrator = Schema.migrator
        do {
            let superseded = try writer.read { try migrator.hasBeenSuperseded($0) }
            guard !superseded else {
                throw StoreError("cannot open \(location): it was written by a newer version of Orbit")
            }
            try migrator.migrate(writer)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError("cannot migrate \(location): \(Self.describe(error))")
        }
    }

    /// The connection pool of the database file at `path`, whose writer leaves checkpoints to `checkpointer`.
    static func pool(at path: String, checkpointedBy checkpointer: WALCheckpointer) throws -> DatabasePool {
        var configuration = configuration()
        // The writer's connection keeps its configuration, and so the checkpointer, as long as it is open.
        configuration.prepareDatabase { db in
            if !db.configuration.readonly { checkpointer.install(on: db) }
        }
        return try DatabasePool(path: path, configuration: configuration)
    }

    private static func configuration() -> Configuration {
        var configuration = Configuration()
        configuration.label = "orbit"
        configuration.busyMode = .timeout(5)
        return configuration
    }

    // MARK: - Store

    /// The customer with `id`, or nil.
    public func customer(_ id: String) async throws -> Customer? {
        let key = Self.key(id)
        let data = try await read("read customer '\(id)'") { db in
            try String.fetchOne(db, sql: "SELECT data FROM customers WHERE id = ?", arguments: [key])
        }
        guard let data else { return nil }
        return try Self.decodeCustomer(data, decoder: JSONDecoder())
    }

    /// Every customer, ordered by id as Swift orders strings.
    public func allCustomers() async throws -> [Customer] {
        let blobs = try await read("read customers") { db in
            try String.fetchAll(db, sql: "SELECT data FROM customers")
        }
        return try Self.decodeCustomers(blobs).sorted { $0.id < $1.id }
    }

    /// Decodes customer blobs on all cores: loading every customer is what an engine or a report does first, and
    /// decoding is most of its time.
    static func decodeCustomers(_ blobs: [String]) throws -> [Customer] {
        let chunkCount = blobs.count >= 2_000 ? max(1, ProcessInfo.processInfo.activeProcessorCount) : 1
        let chunkSize = (blobs.count + chunkCount - 1) / max(1, chunkCount)
        var customers = [Customer?](repeating: nil, count: blobs.count)
        let failures = Mutex<[Int: any Error]>([:])
        customers.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let output = buffer
            DispatchQueue.concurrentPerform(iterations: chunkCount) { chunk in
                let decoder = JSONDecoder()
                for index in (chunk * chunkSize)..<min(blobs.count, (chunk + 1) * chunkSize) {
                    do {
                        output[index] = try decodeCustomer(blobs[index], decoder: decoder)
                    } catch {
                        failures.withLock { $0[chunk] = error }
                        return
                    }
                }
            }
        }
        if let failure = failures.withLock({ $0.min { $0.key < $1.key }?.value }) { throw failure }
        return customers.compactMap { $0 }
    }

    /// Which of `ids` were applied before. For a file, the query runs on the calling thread (see ``lookup``), which
    /// it blocks for about a millisecond per 2,500 ids.
    public func appliedEventIDs(among ids: [String]) async throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        let keys = ids.map(Self.key)
        // One statement for the whole list (passed as a JSON array), not one round through GRDB per id.
        var list: [UInt8] = [UInt8(ascii: "[")]
        for (index, key) in keys.enumerated() {
            if index > 0 { list.append(UInt8(ascii: ",")) }
            JSONByteWriter.appendString(key, to: &list)
        }
        list.append(UInt8(ascii: "]"))
        let json = String(decoding: list, as: UTF8.self)
        // Each id of the list looked up by primary key, rather than `event_id IN (SELECT …)`, which first sorted the
        // list into a temporary index (0.5 ms instead of 3 for a replay batch of 2,500 ids). CROSS JOIN keeps the
        // list as the outer loop whatever the planner's statistics say.
        @Sendable func fetch(_ db: Database) throws -> Set<String> {
            Set(
                try String.fetchAll(
                    db,
                    sql: """
                        SELECT applied_events.event_id FROM json_each(?) AS list
                        CROSS JOIN applied_events ON applied_events.event_id = list.value
                        """,
                    arguments: [json]))
        }
        let found =
            if let lookup {
                try readHere("read applied events", on: lookup, fetch)
            } else {
                try await read("read applied events", fetch)
            }
        return Set(zip(ids, keys).filter { found.contains($0.1) }.map(\.0))
    }

    /// Applies the commits in one write transaction: all or none. An event id that was applied before, or that
    /// occurs twice in `commits`, throws ``StoreError`` and leaves the store as it was.
    public func apply(_ commits: [EventCommit]) async throws {
        try await apply(commits, after: nil)
    }

    /// Encodes `commits` while `predecessor` writes, then writes them: the writer's turn is then SQLite's work only.
    public func apply(_ commits: [EventCommit], after predecessor: Task<Void, any Error>?) async throws {
        guard !commits.isEmpty else {
            try await predecessor?.value
            return
        }
        // Encoded before the write (the writer lock is then held for SQLite work only), off the cooperative pool.
        let encoded = await runBlocking {
            Result { (try PreparedBatch(commits), try CheckoutRows(commits), CustomerVersionCheck(commits)) }
        }
        // The write before first: its error, when it failed, is the one to report.
        try await predecessor?.value
        let (batch, checkout, versions) = try encoded.get()
        try await write("apply \(commits.count) commits") { db in
            try versions.check(db)
            try batch.write(db)
            try checkout.write(db)
        }
    }

    /// The ledger of a customer, in the order it was written.
    public func ledger(customerID: String) async throws -> [PointsEntry] {
        let key = Self.key(customerID)
        return try await read("read the ledger of '\(customerID)'") { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, customer_id, entry_customer_id, kind, points, at, expires_at, rule, event_id, reason
                    FROM ledger WHERE customer_id = ? ORDER BY seq
                    """,
                arguments: [key]
            )
            let coder = RowCoder()
            return try rows.map { row in
                try coder.decode(
                    PointsEntry.self, what: "ledger entry",
                    fields: [
                        "id": .string(try row.decode(forColumn: "id")),
                        "customerID": .string(
                            try row.decode(String?.self, forColumn: "entry_customer_id")
                                ?? row.decode(forColumn: "customer_id")
                        ),
                        "kind": .string(try row.decode(forColumn: "kind")),
                        "points": .integer(try row.decode(forColumn: "points")),
                        "at": Self.instant(try row.decode(forColumn: "at")),
                        "expiresAt": Self.instant(try row.decode(forColumn: "expires_at")),
                        "rule": Self.text(try row.decode(forColumn: "rule")),
                        "eventID": Self.text(try row.decode(forColumn: "event_id")),
                        "reason": Self.text(try row.decode(forColumn: "reason")),
                    ]
                )
            }
        }
    }

    /// The outbox messages of a customer, in the order they were queued.
    public func messages(customerID: String) async throws -> [OutboxMessage] {
        let key = Self.key(customerID)
        return try await read("read the outbox of '\(customerID)'") { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT id, customer_id, message_customer_id, channel, template, data, queued_at, rule
                    FROM outbox WHERE customer_id = ? ORDER BY seq
                    """,
                arguments: [key]
            )
            let coder = RowCoder()
            return try rows.map { row in
                let data = try coder.decode(JSONValue.self, what: "outbox data", json: row.decode(forColumn: "data"))
                return try coder.decode(
                    OutboxMessage.self, what: "outbox message",
                    fields: [
                        "id": .string(try row.decode(forColumn: "id")),
                        "customerID": .string(
                            try row.decode(String?.self, forColumn: "message_customer_id")
                                ?? row.decode(forColumn: "customer_id")
                        ),
                        "channel": .string(try row.decode(forColumn: "channel")),
                        "template": .string(try row.decode(forColumn: "template")),
                        "data": data,
                        "queuedAt": Self.instant(try row.decode(forColumn: "queued_at")),
                        "rule": .string(try row.decode(forColumn: "rule")),
                    ]
                )
            }
        }
    }

    /// Segment membership of a customer as last recorded.
    public func segments(customerID: String) async throws -> Set<String> {
        let key = Self.key(customerID)
        let segments = try await read("read the segments of '\(customerID)'") { db in
            try String.fetchAll(db, sql: "SELECT segment FROM segment_members WHERE customer_id = ?", arguments: [key])
        }
        return Set(segments)
    }

    /// Erases a person's personal data in one transaction: the customer becomes `customer.forgotten()` (attributes,
    /// tags, consent and referral data gone; orders, wallet and tier kept) and outbox message data becomes `{}`. Ledger
    /// rows stay (they hold no personal data).
    /// Returns false when the customer is unknown.
    public func forget(customerID: String) async throws -> Bool {
        let key = Self.key(customerID)
        return try await write("forget customer '\(customerID)'") { db in
            guard let data = try String.fetchOne(db, sql: "SELECT data FROM customers WHERE id = ?", arguments: [key])
            else { return false }
            let forgotten = try Self.decodeCustomer(data, decoder: JSONDecoder()).forgotten()
            let encoded = try Self.encodeCustomer(forgotten, encoder: StreamingJSONEncoder())
            try db.execute(
                sql: "UPDATE customers SET data = ?, tier = ?, is_forgotten = 1, version = version + 1 WHERE id = ?",
                arguments: [encoded, forgotten.tier, key]
            )
            try db.execute(sql: "UPDATE outbox SET data = '{}' WHERE customer_id = ?", arguments: [key])
            return true
        }
    }

    /// Totals over the whole store, computed with SQL aggregates in one read transaction.
    public func totals() async throws -> StoreTotals {
        try await read("compute totals") { db in
            var totals = StoreTotals(
                customers: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM customers") ?? 0,
                events: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM applied_events") ?? 0,
                messages: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox") ?? 0
            )
            for row in try Row.fetchAll(db, sql: "SELECT kind, SUM(points) AS points FROM ledger GROUP BY kind") {
                let points = try row.decode(Int64?.self, forColumn: "points") ?? 0
                if let kind = PointsEntry.Kind(rawValue: try row.decode(forColumn: "kind")) {
                    totals.count(kind, points: points)
                }
            }
            // Accumulated in Swift, not assigned: keys SQL tells apart byte for byte may be one Swift string.
            let tiers = "SELECT COALESCE(tier, 'none') AS tier, COUNT(*) AS count FROM customers GROUP BY 1"
            for row in try Row.fetchAll(db, sql: tiers) {
                totals.tierCounts[try row.decode(forColumn: "tier"), default: 0] +=
                    try row.decode(Int.self, forColumn: "count")
            }
            let segments = "SELECT segment, COUNT(*) AS count FROM segment_members GROUP BY segment"
            for row in try Row.fetchAll(db, sql: segments) {
                totals.segmentSizes[try row.decode(forColumn: "segment"), default: 0] +=
                    try row.decode(Int.self, forColumn: "count")
            }
            return totals
        }
    }

    // MARK: - Beyond the protocol

    /// The schema migrations applied to this database, in order (`["v1-initial", …, "v4-customer-versions"]` today).
    public func schemaVersions() async throws -> [String] {
        let migrator = Schema.migrator
        return try await read("read schema versions") { db in
            let applied = try migrator.appliedIdentifiers(db)
            return Schema.versions.filter(applied.contains) + applied.subtracting(Schema.versions).sorted()
        }
    }

    // MARK: - Helpers

    /// `id` as the store keys it: Unicode NFC, so that canonically equivalent ids (equal as Swift strings) match.
    static func key(_ id: String) -> String {
        var id = id
        // Over contiguous bytes: through the UTF-8 view, the check went byte by byte through a generic iterator.
        return id.withUTF8 { $0.allSatisfy { $0 < 0x80 } } ? id : id.precomposedStringWithCanonicalMapping
    }

    static func encodeCustomer(_ customer: Customer, encoder: StreamingJSONEncoder) throws -> String {
        var bytes: [UInt8] = []
        try appendCustomer(customer, to: &bytes, encoder: encoder)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the customer's stored JSON to `bytes`.
    ///
    /// - Throws: ``StoreError`` naming the customer when an attribute cannot be encoded (a non-finite number).
    static func appendCustomer(_ customer: Customer, to bytes: inout [UInt8], encoder: StreamingJSONEncoder) throws {
        do {
            try CustomerJSON.append(customer, to: &bytes, attributes: encoder)
        } catch {
            throw StoreError("cannot encode customer '\(customer.id)': \(describe(error))")
        }
    }

    static func decodeCustomer(_ text: String, decoder: JSONDecoder) throws -> Customer {
        do {
            return try decoder.decode(Customer.self, from: Data(text.utf8))
        } catch {
            throw StoreError("cannot decode a stored customer: \(describe(error))")
        }
    }

    private static func instant(_ milliseconds: Int64?) -> JSONValue {
        milliseconds.map { .string(Instant(millisecondsSinceEpoch: $0).description) } ?? .null
    }

    private static func text(_ value: String?) -> JSONValue {
        value.map(JSONValue.string) ?? .null
    }

    /// Runs a read, turning any failure into a ``StoreError`` that says what failed.
    func read<T: Sendable>(
        _ what: String, _ body: @escaping @Sendable (Database) throws -> T
    ) async throws -> T {
        do {
            return try await writer.read(body)
        } catch {
            throw reported(error, whileTryingTo: what)
        }
    }

    /// Runs a read on `connection`, on the calling thread (GRDB's synchronous read: this function is not `async`),
    /// turning failures into a ``StoreError``.
    private func readHere<T>(_ what: String, on connection: DatabaseQueue, _ body: (Database) throws -> T) throws -> T {
        do {
            return try connection.read(body)
        } catch {
            throw reported(error, whileTryingTo: what)
        }
    }

    /// Runs a write transaction (rolled back on any error), turning failures into a ``StoreError``.
    func write<T: Sendable>(
        _ what: String, _ body: @escaping @Sendable (Database) throws -> T
    ) async throws -> T {
        do {
            return try await writer.write(body)
        } catch let error as UsageLimitExceeded {
            throw error
        } catch let error as StaleCustomer {
            throw error
        } catch {
            throw reported(error, whileTryingTo: what)
        }
    }

    /// `error` as the store reports a failure to do `what`: a ``StoreError`` as it is, anything else (SQLite's) as a
    /// ``StoreError`` that says what failed and where.
    private func reported(_ error: any Error, whileTryingTo what: String) -> any Error {
        error is StoreError ? error : StoreError("cannot \(what) in \(location): \(Self.describe(error))")
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError {
            return error.message ?? "\(error.resultCode)"
        }
        return "\(error)"
    }
}

