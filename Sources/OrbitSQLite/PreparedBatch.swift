import Foundation
import GRDB
import Orbit
import Synchronization

/// A batch of commits made ready for the write transaction: keys normalised and JSON encoded beforehand, so the
/// writer lock is held only for SQLite work.
struct PreparedBatch: Sendable {
    /// The encoded parts of one commit.
    struct Item: Sendable {
        var eventKey: String
        var customerKey: String
        /// The encoded customer, or nil when a later commit of the batch writes the same customer (only the last
        /// state of a customer survives the batch, so only that one is encoded and written).
        var customerJSON: String?
        /// The encoded data of each message, in order.
        var messageData: [String]
    }

    let commits: [EventCommit]
    /// By commit index.
    let items: [Item]
    /// Applied effects of the batch, counted per rule and kind.
    let effectCounts: [EffectKey: Int]

    /// A rule and an effect kind.
    struct EffectKey: Hashable, Sendable {
        var rule: String
        var kind: String
    }

    /// Encodes `commits`, on all cores when the batch is large enough to pay for it.
    ///
    /// - Throws: ``StoreError`` when a customer or message cannot be encoded (a non-finite number, for instance).
    init(_ commits: [EventCommit]) throws {
        let customerKeys = commits.map { SQLiteStore.key($0.customerID) }
        var lastIndex: [String: Int] = [:]
        lastIndex.reserveCapacity(commits.count)
        for (index, key) in customerKeys.enumerated() { lastIndex[key] = index }
        let writesCustomer = customerKeys.indices.map { lastIndex[customerKeys[$0]] == $0 }
        var effectCounts: [EffectKey: Int] = [:]
        for index in commits.indices {
            for effect in commits[index].appliedEffects {
                effectCounts[EffectKey(rule: effect.rule, kind: effect.kind), default: 0] += 1
            }
        }

        var items = [Item?](repeating: nil, count: commits.count)
        let chunkCount = commits.count >= 256 ? max(1, ProcessInfo.processInfo.activeProcessorCount) : 1
        let chunkSize = (commits.count + chunkCount - 1) / chunkCount
        let failures = Mutex<[Int: any Error]>([:])
        // Through pointers: a commit is read where it lies (an array's subscript, or a borrowed parameter read from a
        // buffer, copies the whole commit, customer included).
        commits.withUnsafeBufferPointer { source in
            items.withUnsafeMutableBufferPointer { buffer in
                nonisolated(unsafe) let input = source
                nonisolated(unsafe) let output = buffer
                DispatchQueue.concurrentPerform(iterations: chunkCount) { chunk in
                    let encoder = StreamingJSONEncoder()
                    for index in (chunk * chunkSize)..<min(input.count, (chunk + 1) * chunkSize) {
                        do {
                            output[index] = try Self.encode(
                                input.baseAddress! + index, customerKey: customerKeys[index], writesCustomer: writesCustomer[index],
                                encoder: encoder)
                        } catch {
                            failures.withLock { $0[chunk] = error }
                            return
                        }
                    }
                }
            }
        }
        // The first failure in commit order, as a sequential encoding would report.
        if let failure = failures.withLock({ $0.min { $0.key < $1.key }?.value }) { throw failure }
        self.commits = commits
        self.items = items.compactMap { $0 }
        self.effectCounts = effectCounts
    }

    private static func encode(
        _ commit: UnsafePointer<EventCommit>, customerKey: String, writesCustomer: Bool, encoder: StreamingJSONEncoder
    ) throws -> Item {
        Item(
            eventKey: SQLiteStore.key(commit.pointee.eventID), customerKey: customerKey,
            customerJSON: writesCustomer ? try SQLiteStore.encodeCustomer(commit.pointee.customer, encoder: encoder) : nil,
            messageData: try commit.pointee.messages.map { try encodeData(of: $0, encoder: encoder) })
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
        let countEffects = try BulkStatement(
            db,
            sql: """
                INSERT INTO rule_effects (rule, kind, count) VALUES (?, ?, ?)
                ON CONFLICT (rule, kind) DO UPDATE SET count = count + excluded.count
                """)

        try commits.withUnsafeBufferPointer { commits in
            for index in commits.indices {
                try Self.write(commits.baseAddress! + index, item: items[index], with: statements, in: db)
            }
        }
        for (effect, count) in effectCounts {
            countEffects.bind(effect.rule)
            countEffects.bind(effect.kind)
            countEffects.bind(Int64(count))
            try countEffects.execute()
        }
    }

    /// The statements of a batch's write, prepared once.
    private struct Statements {
        let insertEvent: BulkStatement
        let upsertCustomer: BulkStatement
        let insertLedger: BulkStatement
        let insertMessage: BulkStatement
        let insertSegment: BulkStatement
        let deleteSegment: BulkStatement
        let insertSegmentChange: BulkStatement
        let insertSurveyResponse: BulkStatement
        let insertTierChange: BulkStatement

        init(_ db: Database) throws {
            insertEvent = try BulkStatement(
                db, sql: "INSERT INTO applied_events (event_id, type, customer_id, at) VALUES (?, ?, ?, ?)")
            upsertCustomer = try BulkStatement(
                db,
                sql: """
                    INSERT INTO customers (id, tier, last_event_at, is_forgotten, data) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET tier = excluded.tier, last_event_at = excluded.last_event_at,
                        is_forgotten = excluded.is_forgotten, data = excluded.data, version = version + 1
                    """)
            insertLedger = try BulkStatement(
                db,
                sql: """
                    INSERT INTO ledger (id, customer_id, entry_customer_id, kind, points, at, expires_at, rule, event_id,
                        reason)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            insertMessage = try BulkStatement(
                db,
                sql: """
                    INSERT INTO outbox (id, customer_id, message_customer_id, channel, template, data, queued_at, rule)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            insertSegment = try BulkStatement(
                db, sql: "INSERT OR IGNORE INTO segment_members (customer_id, segment) VALUES (?, ?)")
            deleteSegment = try BulkStatement(
                db, sql: "DELETE FROM segment_members WHERE customer_id = ? AND segment = ?")
            insertSegmentChange = try BulkStatement(
                db, sql: "INSERT INTO segment_changes (customer_id, segment, at, entered) VALUES (?, ?, ?, ?)")
            insertSurveyResponse = try BulkStatement(
                db, sql: "INSERT INTO survey_responses (event_id, customer_id, at, score) VALUES (?, ?, ?, ?)")
            insertTierChange = try BulkStatement(
                db, sql: "INSERT INTO tier_changes (customer_id, event_id, at, from_tier, to_tier) VALUES (?, ?, ?, ?, ?)")
        }
    }

    /// Writes one commit, read where it lies in the batch (nothing of it is copied).
    private static func write(
        _ commit: UnsafePointer<EventCommit>, item: Item, with statements: Statements, in db: Database
    ) throws {
        let key = item.customerKey
        if commit.pointee.recordsEventID {
            statements.insertEvent.bind(item.eventKey)
            statements.insertEvent.bind(commit.pointee.eventType)
            statements.insertEvent.bind(key)
            statements.insertEvent.bind(commit.pointee.at.millisecondsSinceEpoch)
            do {
                try statements.insertEvent.execute()
            } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                throw StoreError("event '\(commit.pointee.eventID)' was already applied")
            }
        }
        if let json = item.customerJSON {
            statements.upsertCustomer.bind(key)
            statements.upsertCustomer.bind(commit.pointee.customer.tier)
            statements.upsertCustomer.bind(commit.pointee.customer.lastEventAt.millisecondsSinceEpoch)
            statements.upsertCustomer.bind(commit.pointee.customer.isForgotten)
            statements.upsertCustomer.bind(json)
            try statements.upsertCustomer.execute()
        }
        for entry in commit.pointee.ledger {
            statements.insertLedger.bind(entry.id)
            statements.insertLedger.bind(key)
            statements.insertLedger.bind(Self.ifDifferent(entry.customerID, from: key))
            statements.insertLedger.bind(entry.kind.rawValue)
            statements.insertLedger.bind(entry.points)
            statements.insertLedger.bind(entry.at.millisecondsSinceEpoch)
            statements.insertLedger.bind(entry.expiresAt?.millisecondsSinceEpoch)
            statements.insertLedger.bind(entry.rule)
            statements.insertLedger.bind(entry.eventID)
            statements.insertLedger.bind(entry.reason)
            try statements.insertLedger.execute()
        }
        for (message, data) in zip(commit.pointee.messages, item.messageData) {
            statements.insertMessage.bind(message.id)
            statements.insertMessage.bind(key)
            statements.insertMessage.bind(Self.ifDifferent(message.customerID, from: key))
            statements.insertMessage.bind(message.channel.rawValue)
            statements.insertMessage.bind(message.template)
            statements.insertMessage.bind(data)
            statements.insertMessage.bind(message.queuedAt.millisecondsSinceEpoch)
            statements.insertMessage.bind(message.rule)
            try statements.insertMessage.execute()
        }
        if let segments = commit.pointee.segments {
            let previous = try commit.pointee.previousSegments ?? storedSegments(of: key, in: db)
            for change in SegmentChange.changes(
                of: commit.pointee.customerID, from: previous, to: segments, at: commit.pointee.at)
            {
                let membership = change.entered ? statements.insertSegment : statements.deleteSegment
                membership.bind(key)
                membership.bind(change.segment)
                try membership.execute()
                statements.insertSegmentChange.bind(key)
                statements.insertSegmentChange.bind(change.segment)
                statements.insertSegmentChange.bind(change.at.millisecondsSinceEpoch)
                statements.insertSegmentChange.bind(change.entered)
                try statements.insertSegmentChange.execute()
            }
        }
        if let response = commit.pointee.surveyResponse {
            statements.insertSurveyResponse.bind(item.eventKey)
            statements.insertSurveyResponse.bind(key)
            statements.insertSurveyResponse.bind(response.at.millisecondsSinceEpoch)
            statements.insertSurveyResponse.bind(Int64(response.score))
            try statements.insertSurveyResponse.execute()
        }
        if let change = commit.pointee.tierChange {
            statements.insertTierChange.bind(key)
            statements.insertTierChange.bind(item.eventKey)
            statements.insertTierChange.bind(commit.pointee.at.millisecondsSinceEpoch)
            statements.insertTierChange.bind(change.from)
            statements.insertTierChange.bind(change.to)
            try statements.insertTierChange.execute()
        }
    }

    /// The segments `segment_members` holds for the customer filed under `key` (for commits that do not say).
    private static func storedSegments(of key: String, in db: Database) throws -> Set<String> {
        try String.fetchSet(
            db.cachedStatement(sql: "SELECT segment FROM segment_members WHERE customer_id = ?"), arguments: [key])
    }

    /// `id`, when it differs byte for byte from the `key` the row is filed under; nil (the usual case) otherwise.
    private static func ifDifferent(_ id: String, from key: String) -> String? {
        id.utf8.elementsEqual(key.utf8) ? nil : id
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
