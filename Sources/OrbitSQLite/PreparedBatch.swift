import Foundation
import GRDB
import Orbit
import Synchronization

/// A batch of commits made ready for the write transaction: keys normalised, JSON encoded and every row's values laid
/// out beforehand (``EncodedRows``), so the writer lock is held only for SQLite work.
struct PreparedBatch: Sendable {
    let commits: [EventCommit]
    /// The rows of the batch, in commit order, one buffer per part encoded on its own core; then the batch's
    /// applied effects, counted per rule and kind.
    let rows: [EncodedRows]

    /// A rule and an effect kind.
    private struct EffectKey: Hashable {
        var rule: String
        var kind: String
    }

    /// Encodes `commits`, on all cores when the batch is large enough to pay for it.
    ///
    /// - Throws: ``StoreError`` when a customer or message cannot be encoded (a non-finite number, for instance).
    init(_ commits: [EventCommit]) throws {
        // Through the buffer: mapping the array handed each commit to the closure as a copy, customer included
        // (profiled); a field read through the buffer's subscript copies nothing.
        let customerKeys = commits.withUnsafeBufferPointer { commits in
            commits.indices.map { SQLiteStore.key(commits[$0].customerID) }
        }
        var lastIndex: [String: Int] = [:]
        lastIndex.reserveCapacity(commits.count)
        for (index, key) in customerKeys.enumerated() { lastIndex[key] = index }
        // Only the last state of a customer survives the batch, so only that one is encoded and written.
        let writesCustomer = customerKeys.indices.map { lastIndex[customerKeys[$0]] == $0 }
        var effectCounts: [EffectKey: Int] = [:]
        for index in commits.indices {
            for effect in commits[index].appliedEffects {
                effectCounts[EffectKey(rule: effect.rule, kind: effect.kind), default: 0] += 1
            }
        }

        let ranges = Self.parts(of: commits.count, cores: ProcessInfo.processInfo.activeProcessorCount)
        var parts = [EncodedRows](repeating: EncodedRows(), count: ranges.count)
        let failures = Mutex<[Int: any Error]>([:])
        // Through pointers: a commit is read where it lies (passing one on as a parameter, from the array or its
        // buffer, copied it whole, customer included).
        commits.withUnsafeBufferPointer { source in
            parts.withUnsafeMutableBufferPointer { buffer in
                nonisolated(unsafe) let input = source
                nonisolated(unsafe) let output = buffer
                DispatchQueue.concurrentPerform(iterations: ranges.count) { part in
                    let range = ranges[part]
                    // About 900 bytes per commit on the CDNOW replay, most of it customer JSON.
                    var rows = EncodedRows(reservingCapacity: range.count * 1024)
                    let encoder = StreamingJSONEncoder()
                    for index in range {
                        do {
                            try Self.encode(
                                input.baseAddress! + index, at: index, customerKey: customerKeys[index],
                                writesCustomer: writesCustomer[index], encoder: encoder, into: &rows)
                        } catch {
                            failures.withLock { $0[part] = error }
                            return
                        }
                    }
                    output[part] = rows
                }
            }
        }
        // The first failure in commit order, as a sequential encoding would report.
        if let failure = failures.withLock({ $0.min { $0.key < $1.key }?.value }) { throw failure }
        // One upsert per rule and kind, filed under the batch's last commit (they add up all of it).
        var effectRows = EncodedRows()
        for (effect, count) in effectCounts {
            effectRows.startRow(.ruleEffects, commit: commits.count - 1)
            effectRows.append(effect.rule)
            effectRows.append(effect.kind)
            effectRows.append(Int64(count))
        }
        self.commits = commits
        self.rows = parts + [effectRows]
    }

    /// The ranges of commits encoded each on its own core: one per core for a batch large enough to pay for it, and
    /// never an empty one (rounding the size of a part up can leave the last cores nothing to do).
    static func parts(of count: Int, cores: Int) -> [Range<Int>] {
        let partCount = count >= 256 ? max(1, cores) : 1
        let partSize = max(1, (count + partCount - 1) / partCount)
        return stride(from: 0, to: max(count, 1), by: partSize).map { $0..<min(count, $0 + partSize) }
    }

    /// Appends the rows of one commit, read where it lies in the batch (nothing of it is copied).
    private static func encode(
        _ commit: UnsafePointer<EventCommit>, at index: Int, customerKey key: String, writesCustomer: Bool,
        encoder: StreamingJSONEncoder, into rows: inout EncodedRows
    ) throws {
        let eventKey = SQLiteStore.key(commit.pointee.eventID)
        let at = commit.pointee.at.millisecondsSinceEpoch
        if commit.pointee.recordsEventID {
            rows.startRow(.appliedEvent, commit: index)
            rows.append(eventKey)
            rows.append(commit.pointee.eventType)
            rows.append(key)
            rows.append(at)
        }
        if writesCustomer {
            rows.startRow(.customer, commit: index)
            rows.append(key)
            rows.append(commit.pointee.customer.tier)
            rows.append(commit.pointee.customer.lastEventAt.millisecondsSinceEpoch)
            rows.append(commit.pointee.customer.isForgotten)
            try rows.appendText { try SQLiteStore.appendCustomer(commit.pointee.customer, to: &$0, encoder: encoder) }
        }
        for entry in commit.pointee.ledger {
            rows.startRow(.ledgerEntry, commit: index)
            rows.append(entry.id)
            rows.append(key)
            rows.append(Self.ifDifferent(entry.customerID, from: key))
            rows.append(entry.kind.rawValue)
            rows.append(entry.points)
            rows.append(entry.at.millisecondsSinceEpoch)
            rows.append(entry.expiresAt?.millisecondsSinceEpoch)
            rows.append(entry.rule)
            rows.append(entry.eventID)
            rows.append(entry.reason)
        }
        for message in commit.pointee.messages {
            let data = try encodeData(of: message, encoder: encoder)
            rows.startRow(.outboxMessage, commit: index)
            rows.append(message.id)
            rows.append(key)
            rows.append(Self.ifDifferent(message.customerID, from: key))
            rows.append(message.channel.rawValue)
            rows.append(message.template)
            rows.append(data)
            rows.append(message.queuedAt.millisecondsSinceEpoch)
            rows.append(message.rule)
        }
        if let segments = commit.pointee.segments {
            if let previous = commit.pointee.previousSegments {
                let changes = SegmentChange.changes(
                    of: commit.pointee.customerID, from: previous, to: segments, at: commit.pointee.at)
                for change in changes { append(change, customerKey: key, commit: index, to: &rows) }
            } else {
                rows.startRow(.segmentsAgainstStore, commit: index)
            }
        }
        if let response = commit.pointee.surveyResponse {
            rows.startRow(.surveyResponse, commit: index)
            rows.append(eventKey)
            rows.append(key)
            rows.append(response.at.millisecondsSinceEpoch)
            rows.append(Int64(response.score))
        }
        if let change = commit.pointee.tierChange {
            rows.startRow(.tierChange, commit: index)
            rows.append(key)
            rows.append(eventKey)
            rows.append(at)
            rows.append(change.from)
            rows.append(change.to)
        }
    }

    /// Appends the rows of a segment change: the membership, then the history.
    private static func append(
        _ change: SegmentChange, customerKey key: String, commit: Int, to rows: inout EncodedRows
    ) {
        rows.startRow(change.entered ? .segmentEntered : .segmentLeft, commit: commit)
        rows.append(key)
        rows.append(change.segment)
        rows.startRow(.segmentChange, commit: commit)
        rows.append(key)
        rows.append(change.segment)
        rows.append(change.at.millisecondsSinceEpoch)
        rows.append(change.entered)
    }

    private static func encodeData(of message: OutboxMessage, encoder: StreamingJSONEncoder) throws -> String {
        do {
            return try encoder.encode(JSONValue.object(message.data))  // keys in order, like every stored object
        } catch {
            throw StoreError("cannot encode the data of message '\(message.id)': \(SQLiteStore.describe(error))")
        }
    }

    /// Writes the batch. Must run inside a transaction: a throw leaves the rollback to it.
    func write(_ db: Database) throws {
        let statements = try Statements(db)
        defer { statements.clearBindings() }  // they point into the buffers of rows
        for part in rows { try write(part, with: statements, in: db) }
    }

    /// Runs the statements of the rows of `part`. Appends wait to be written ``Statements/rowsPerInsert`` at a time;
    /// every table still gets its rows in the order of the part. What waits is written before a commit whose segment
    /// changes are worked out against the store, which appends to `segment_changes` after the rows before it.
    private func write(_ part: EncodedRows, with statements: Statements, in db: Database) throws {
        try part.withRows { rows in
            var appends = PendingAppends()
            while let row = try rows.next() {
                if row.target == .segmentsAgainstStore {
                    try appends.writeAll(with: statements, batch: self)
                    try writeSegmentsAgainstStore(of: row.commit, with: statements, in: db)
                } else if Statements.isAppend(row.target) {
                    try appends.add(row, with: statements, batch: self)
                } else {
                    try writeRow(row, with: statements[row.target])
                }
            }
            try appends.writeAll(with: statements, batch: self)
        }
    }

    /// Runs `statement` (a one-row statement) over the values of `row`.
    fileprivate func writeRow(_ row: EncodedRows.Row, with statement: BulkStatement) throws {
        try Self.checkValueCount(of: row, for: statement)
        var values = row.values
        while let value = values.next() { statement.bind(value) }
        do {
            try statement.execute()
        } catch let error as DatabaseError
            where row.target == .appliedEvent && error.resultCode == .SQLITE_CONSTRAINT
        {
            throw StoreError("event '\(commits[row.commit].eventID)' was already applied")
        }
    }

    /// Throws when `row` has not one value per parameter of `statement` (a one-row statement): a bug upstream.
    fileprivate static func checkValueCount(of row: EncodedRows.Row, for statement: BulkStatement) throws {
        guard row.values.remaining == statement.parameterCount else {
            throw StoreError("internal error: a \(row.target) row has \(row.values.remaining) values")
        }
    }

    /// Writes the segment changes of the commit at `index`, which does not say what the customer's segments were:
    /// they are read from `segment_members`, as the rows before it in the transaction left them.
    private func writeSegmentsAgainstStore(of index: Int, with statements: Statements, in db: Database) throws {
        let commit = commits[index]  // one copy, on a path the engine's own commits never take
        guard let segments = commit.segments else { return }
        let key = SQLiteStore.key(commit.customerID)
        let previous = try String.fetchSet(
            db.cachedStatement(sql: "SELECT segment FROM segment_members WHERE customer_id = ?"), arguments: [key])
        var rows = EncodedRows()
        for change in SegmentChange.changes(of: commit.customerID, from: previous, to: segments, at: commit.at) {
            Self.append(change, customerKey: key, commit: index, to: &rows)
        }
        // The statements point into `rows` until cleared: keep it alive until then, also when a write throws.
        try withExtendedLifetime(rows) {
            defer { statements.clearBindings() }
            try write(rows, with: statements, in: db)
        }
    }

    /// The statements of a batch's write, prepared once, by the target of their rows.
    fileprivate struct Statements {
        /// How many rows one multi-row INSERT of appends writes. Per row, SQLite then starts and ends a statement
        /// once in 32 times: on the CDNOW replay that took about a quarter off inserting the ledger.
        static let rowsPerInsert = 32

        private let oneRow: [BulkStatement?]
        private let manyRows: [BulkStatement?]

        /// The SQL of each target's statements, by target: writing one row, and (appends only) ``rowsPerInsert``.
        private static let oneRowSQL = EncodedRows.Target.allCases.map { sql(for: $0, rows: 1) }
        private static let manyRowsSQL = EncodedRows.Target.allCases.map {
            isAppend($0) ? sql(for: $0, rows: rowsPerInsert) : nil
        }

        init(_ db: Database) throws {
            oneRow = try Self.oneRowSQL.map { sql in try sql.map { try BulkStatement(db, sql: $0) } }
            manyRows = try Self.manyRowsSQL.map { sql in try sql.map { try BulkStatement(db, sql: $0) } }
        }

        /// The one-row statement of `target`.
        subscript(target: EncodedRows.Target) -> BulkStatement { oneRow[Int(target.rawValue)]! }

        /// The statement that writes ``rowsPerInsert`` rows of `target`, an append.
        func insertingMany(_ target: EncodedRows.Target) -> BulkStatement { manyRows[Int(target.rawValue)]! }

        func clearBindings() {
            for statement in oneRow + manyRows { statement?.clearBindings() }
        }

        /// Whether rows of `target` may wait and go in groups: nothing in the write reads their table before the batch
        /// ends, and a table's rows keep their order. They add rows, except customers, which are upserted (each once
        /// per batch). Segment memberships are deleted as well as inserted, and read for ``segmentsAgainstStore``
        /// rows, so they are written in place.
        static func isAppend(_ target: EncodedRows.Target) -> Bool {
            switch target {
            case .appliedEvent, .customer, .ledgerEntry, .outboxMessage, .segmentChange, .surveyResponse, .tierChange:
                true
            case .segmentEntered, .segmentLeft, .ruleEffects, .segmentsAgainstStore:
                false
            }
        }

        /// The SQL that writes `rows` rows of `target` (appends only may write more than one).
        private static func sql(for target: EncodedRows.Target, rows: Int) -> String? {
            switch target {
            case .appliedEvent:
                insert("applied_events (event_id, type, customer_id, at)", columns: 4, rows: rows)
            case .customer:
                insert(
                    "customers (id, tier, last_event_at, is_forgotten, data)", columns: 5, rows: rows,
                    then: """
                        ON CONFLICT (id) DO UPDATE SET tier = excluded.tier, last_event_at = excluded.last_event_at,
                            is_forgotten = excluded.is_forgotten, data = excluded.data, version = version + 1
                        """)
            case .ledgerEntry:
                insert(
                    "ledger (id, customer_id, entry_customer_id, kind, points, at, expires_at, rule, event_id, reason)",
                    columns: 10, rows: rows)
            case .outboxMessage:
                insert(
                    "outbox (id, customer_id, message_customer_id, channel, template, data, queued_at, rule)",
                    columns: 8, rows: rows)
            case .segmentEntered: "INSERT OR IGNORE INTO segment_members (customer_id, segment) VALUES (?, ?)"
            case .segmentLeft: "DELETE FROM segment_members WHERE customer_id = ? AND segment = ?"
            case .segmentChange: insert("segment_changes (customer_id, segment, at, entered)", columns: 4, rows: rows)
            case .surveyResponse: insert("survey_responses (event_id, customer_id, at, score)", columns: 4, rows: rows)
            case .tierChange:
                insert("tier_changes (customer_id, event_id, at, from_tier, to_tier)", columns: 5, rows: rows)
            case .ruleEffects:
                """
                INSERT INTO rule_effects (rule, kind, count) VALUES (?, ?, ?)
                ON CONFLICT (rule, kind) DO UPDATE SET count = count + excluded.count
                """
            case .segmentsAgainstStore: nil
            }
        }

        /// `INSERT INTO <table and columns> VALUES (?, …), …` with `rows` rows, then `clause`.
        private static func insert(_ tableAndColumns: String, columns: Int, rows: Int, then clause: String = "") -> String {
            let row = "(" + repeatElement("?", count: columns).joined(separator: ", ") + ")"
            return "INSERT INTO \(tableAndColumns) VALUES " + repeatElement(row, count: rows).joined(separator: ", ")
                + (clause.isEmpty ? "" : "\n" + clause)
        }
    }

    /// `id`, when it differs byte for byte from the `key` the row is filed under; nil (the usual case) otherwise.
    private static func ifDifferent(_ id: String, from key: String) -> String? {
        var id = id
        var key = key
        // Over contiguous bytes: through the UTF-8 views, the comparison went byte by byte through a generic iterator.
        let same = id.withUTF8 { idBytes in key.withUTF8 { keyBytes in idBytes.elementsEqual(keyBytes) } }
        return same ? nil : id
    }
}

/// Append rows that wait to be written ``PreparedBatch/Statements/rowsPerInsert`` at a time by one multi-row INSERT,
/// per target. They point into the buffer being written: every one must be written before its reader goes.
private struct PendingAppends {
    private var rows = [[EncodedRows.Row]](repeating: [], count: EncodedRows.Target.allCases.count)

    /// Adds `row`, and writes the rows of its target once there are enough of them.
    mutating func add(_ row: EncodedRows.Row, with statements: PreparedBatch.Statements, batch: PreparedBatch) throws {
        try PreparedBatch.checkValueCount(of: row, for: statements[row.target])
        let target = Int(row.target.rawValue)
        rows[target].append(row)
        guard rows[target].count == PreparedBatch.Statements.rowsPerInsert else { return }
        try write(statements.insertingMany(row.target), target: target, with: statements, batch: batch)
    }

    /// Writes every row still waiting, one by one.
    mutating func writeAll(with statements: PreparedBatch.Statements, batch: PreparedBatch) throws {
        for target in rows.indices where !rows[target].isEmpty {
            for row in rows[target] { try batch.writeRow(row, with: statements[row.target]) }
            rows[target].removeAll(keepingCapacity: true)
        }
    }

    /// Writes the waiting rows of `target` with `insert`.
    ///
    /// When a constraint refuses the group (an event written before), SQLite has undone that statement only, and the
    /// transaction goes on: every row still waiting is then written one by one, event ids first, so that the error
    /// names the event whichever table refused it (a survey response is keyed by its event too). Any other error
    /// (an interruption, an I/O error) may have ended the transaction: it is thrown as it is, and nothing more is
    /// written.
    private mutating func write(
        _ insert: BulkStatement, target: Int, with statements: PreparedBatch.Statements, batch: PreparedBatch
    ) throws {
        for row in rows[target] {
            var values = row.values
            while let value = values.next() { insert.bind(value) }
        }
        do {
            try insert.execute()
            rows[target].removeAll(keepingCapacity: true)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            try writeAll(with: statements, batch: batch)
        }
    }
}

/// Rebuilds model values whose memberwise initialisers are internal to Orbit (``PointsEntry``, ``OutboxMessage``)
/// from stored columns, through their `Codable` conformance. Only the read path uses it.
struct RowCoder {
    private let encoder = JSONEncoder()
    private let decoder = JSONDecoder()

    /// Decodes a `T` from `fields`, named like its coding keys.
    func decode<T: Decodable>(_ type: T.Type, what: String, fields: [String: JSONValue]) throws -> T {
        do {
            return try decoder.decode(T.self, from: encoder.encode(JSONValue.object(fields)))
        } catch {
            throw StoreError("cannot decode a stored \(what): \(SQLiteStore.describe(error))")
        }
    }

    /// Decodes a `T` from stored JSON text.
    func decode<T: Decodable>(_ type: T.Type, what: String, json: String) throws -> T {
        do {
            return try decoder.decode(T.self, from: Data(json.utf8))
        } catch {
            throw StoreError("cannot decode a stored \(what): \(SQLiteStore.describe(error))")
        }
    }
}
