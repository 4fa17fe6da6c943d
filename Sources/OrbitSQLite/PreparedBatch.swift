import Foundation
import GRDB
import Orbit
import Synchronization

/// A batch of commits made ready for the write transaction: keys normalised and JSON encoded beforehand, so the
/// writer lock is held only for SQLite work.
struct PreparedBatch: Sendable {
    /// One commit with its encoded parts.
    struct Item: Sendable {
        var commit: EventCommit
        var eventKey: String
        var customerKey: String
        /// The encoded customer, or nil when a later commit of the batch writes the same customer (only the last
        /// state of a customer survives the batch, so only that one is encoded and written).
        var customerJSON: String?
        /// The encoded data of each message, in order.
        var messageData: [String]
    }

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
        for commit in commits {
            for effect in commit.appliedEffects {
                effectCounts[EffectKey(rule: effect.rule, kind: effect.kind), default: 0] += 1
            }
        }

        var items = [Item?](repeating: nil, count: commits.count)
        let chunkCount = commits.count >= 256 ? max(1, ProcessInfo.processInfo.activeProcessorCount) : 1
        let chunkSize = (commits.count + chunkCount - 1) / chunkCount
        let failures = Mutex<[Int: any Error]>([:])
        items.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let output = buffer
            DispatchQueue.concurrentPerform(iterations: chunkCount) { chunk in
                let encoder = StreamingJSONEncoder()
                for index in (chunk * chunkSize)..<min(commits.count, (chunk + 1) * chunkSize) {
                    do {
                        let commit = commits[index]
                        let customerKey = customerKeys[index]
                        output[index] = Item(
                            commit: commit, eventKey: SQLiteStore.key(commit.eventID), customerKey: customerKey,
                            customerJSON: writesCustomer[index]
                                ? try SQLiteStore.encodeCustomer(commit.customer, encoder: encoder) : nil,
                            messageData: try commit.messages.map { try Self.encodeData(of: $0, encoder: encoder) }
                        )
                    } catch {
                        failures.withLock { $0[chunk] = error }
                        return
                    }
                }
            }
        }
        // The first failure in commit order, as a sequential encoding would report.
        if let failure = failures.withLock({ $0.min { $0.key < $1.key }?.value }) { throw failure }
        self.items = items.compactMap { $0 }
        self.effectCounts = effectCounts
    }

    private static func encodeData(of message: OutboxMessage, encoder: StreamingJSONEncoder) throws -> String {
        do {
            return try encoder.encode(message.data)
        } catch {
            throw StoreError("cannot encode the data of message '\(message.id)': \(SQLiteStore.describe(error))")
        }
    }

    /// Writes the batch. Must run inside a transaction: a throw leaves the rollback to it.
    func write(_ db: Database) throws {
        let insertEvent = try BulkStatement(
            db, sql: "INSERT INTO applied_events (event_id, type, customer_id, at) VALUES (?, ?, ?, ?)")
        let upsertCustomer = try BulkStatement(
            db,
            sql: """
                INSERT INTO customers (id, tier, last_event_at, is_forgotten, data) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET tier = excluded.tier, last_event_at = excluded.last_event_at,
                    is_forgotten = excluded.is_forgotten, data = excluded.data, version = version + 1
                """)
        let insertLedger = try BulkStatement(
            db,
            sql: """
                INSERT INTO ledger (id, customer_id, entry_customer_id, kind, points, at, expires_at, rule, event_id,
                    reason)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        let insertMessage = try BulkStatement(
            db,
            sql: """
                INSERT INTO outbox (id, customer_id, message_customer_id, channel, template, data, queued_at, rule)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """)
        let deleteSegments = try BulkStatement(db, sql: "DELETE FROM segment_members WHERE customer_id = ?")
        let insertSegment = try BulkStatement(
            db, sql: "INSERT INTO segment_members (customer_id, segment) VALUES (?, ?)")
        let insertTierChange = try BulkStatement(
            db, sql: "INSERT INTO tier_changes (customer_id, event_id, at, from_tier, to_tier) VALUES (?, ?, ?, ?, ?)")
        let countEffects = try BulkStatement(
            db,
            sql: """
                INSERT INTO rule_effects (rule, kind, count) VALUES (?, ?, ?)
                ON CONFLICT (rule, kind) DO UPDATE SET count = count + excluded.count
                """)

        for item in items {
            let commit = item.commit
            let key = item.customerKey
            insertEvent.bind(item.eventKey)
            insertEvent.bind(commit.eventType)
            insertEvent.bind(key)
            insertEvent.bind(commit.at.millisecondsSinceEpoch)
            do {
                try insertEvent.execute()
            } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                throw StoreError("event '\(commit.eventID)' was already applied")
            }
            if let json = item.customerJSON {
                let customer = commit.customer
                upsertCustomer.bind(key)
                upsertCustomer.bind(customer.tier)
                upsertCustomer.bind(customer.lastEventAt.millisecondsSinceEpoch)
                upsertCustomer.bind(customer.isForgotten)
                upsertCustomer.bind(json)
                try upsertCustomer.execute()
            }
            for entry in commit.ledger {
                insertLedger.bind(entry.id)
                insertLedger.bind(key)
                insertLedger.bind(Self.ifDifferent(entry.customerID, from: key))
                insertLedger.bind(entry.kind.rawValue)
                insertLedger.bind(entry.points)
                insertLedger.bind(entry.at.millisecondsSinceEpoch)
                insertLedger.bind(entry.expiresAt?.millisecondsSinceEpoch)
                insertLedger.bind(entry.rule)
                insertLedger.bind(entry.eventID)
                insertLedger.bind(entry.reason)
                try insertLedger.execute()
            }
            for (message, data) in zip(commit.messages, item.messageData) {
                insertMessage.bind(message.id)
                insertMessage.bind(key)
                insertMessage.bind(Self.ifDifferent(message.customerID, from: key))
                insertMessage.bind(message.channel.rawValue)
                insertMessage.bind(message.template)
                insertMessage.bind(data)
                insertMessage.bind(message.queuedAt.millisecondsSinceEpoch)
                insertMessage.bind(message.rule)
                try insertMessage.execute()
            }
            try AnalyticsRows.record(commit, customerKey: key, eventKey: item.eventKey, in: db)
            if let segments = commit.segments {
                deleteSegments.bind(key)
                try deleteSegments.execute()
                for segment in segments {
                    insertSegment.bind(key)
                    insertSegment.bind(segment)
                    try insertSegment.execute()
                }
            }
            if let change = commit.tierChange {
                insertTierChange.bind(key)
                insertTierChange.bind(item.eventKey)
                insertTierChange.bind(commit.at.millisecondsSinceEpoch)
                insertTierChange.bind(change.from)
                insertTierChange.bind(change.to)
                try insertTierChange.execute()
            }
        }
        for (effect, count) in effectCounts {
            countEffects.bind(effect.rule)
            countEffects.bind(effect.kind)
            countEffects.bind(Int64(count))
            try countEffects.execute()
        }
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
