import Foundation
import GRDB
public import Orbit

/// The checkout part of a batch (orders, refunds, usage claims, issued coupons), encoded before the write
/// transaction and written inside it.
struct CheckoutRows: Sendable {
    private var orders: [(id: String, customer: String, at: Int64, json: String)] = []
    private var refunds: [(id: String, order: String, at: Int64, json: String)] = []
    private var coupons: [(code: String, offer: String, customer: String?, json: String)] = []
    private var claims: [UsageClaim] = []

    init(_ commits: [EventCommit]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        func encode(_ value: some Encodable, _ what: String) throws -> String {
            do {
                return String(decoding: try encoder.encode(value), as: UTF8.self)
            } catch {
                throw StoreError("cannot encode \(what): \(SQLiteStore.describe(error))")
            }
        }
        // Through the buffer, reading the few fields it needs: a commit is large, most have none of these, and a
        // computed property (`order`, `refund`) read through the array's subscript copied the whole commit.
        try commits.withUnsafeBufferPointer { commits in
            for commit in commits.indices.lazy.map({ commits.baseAddress! + $0 }) {
                if let order = commit.pointee.order {
                    orders.append(
                        (order.orderID, SQLiteStore.key(order.customerID), order.at.millisecondsSinceEpoch,
                         try encode(order, "order '\(order.orderID)'")))
                }
                if let refund = commit.pointee.refund {
                    refunds.append(
                        (refund.refundID, refund.orderID, refund.at.millisecondsSinceEpoch,
                         try encode(refund, "refund '\(refund.refundID)'")))
                }
                for coupon in commit.pointee.coupons {
                    coupons.append(
                        (coupon.code, coupon.offer, coupon.customerID.map(SQLiteStore.key),
                         try encode(coupon, "coupon '\(coupon.code)'")))
                }
                claims += commit.pointee.claims
            }
        }
    }

    /// Writes the rows. Must run inside the batch's transaction: a throw (a claim over its limit, a refund id seen
    /// before) rolls the whole batch back.
    func write(_ db: Database) throws {
        if !claims.isEmpty {
            let add = try db.cachedStatement(
                sql: "INSERT INTO usage (key, used) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET used = used + excluded.used RETURNING used"
            )
            for claim in claims {
                let used = try Int64.fetchOne(add, arguments: [claim.key, claim.amount]) ?? claim.amount
                if claim.amount > 0, let limit = claim.limit, used > limit { throw UsageLimitExceeded(key: claim.key) }
            }
        }
        for order in orders {
            try db.execute(
                sql: "INSERT OR REPLACE INTO orders (order_id, customer_id, at, data) VALUES (?, ?, ?, ?)",
                arguments: [order.id, order.customer, order.at, order.json])
        }
        for refund in refunds {
            do {
                try db.execute(
                    sql: "INSERT INTO refunds (refund_id, order_id, at, data) VALUES (?, ?, ?, ?)",
                    arguments: [refund.id, refund.order, refund.at, refund.json])
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
                throw StoreError("refund '\(refund.id)' was already applied")
            }
        }
        for coupon in coupons {
            try db.execute(
                sql: "INSERT INTO coupons (code, offer, customer_id, data) VALUES (?, ?, ?, ?)",
                arguments: [coupon.code, coupon.offer, coupon.customer, coupon.json])
        }
    }
}

extension SQLiteStore {
    public func order(_ orderID: String) async throws -> OrderRecord? {
        let json = try await read("read order '\(orderID)'") { db in
            try String.fetchOne(db, sql: "SELECT data FROM orders WHERE order_id = ?", arguments: [orderID])
        }
        return try json.map { try Self.decode(OrderRecord.self, $0, "order '\(orderID)'") }
    }

    public func refund(_ refundID: String) async throws -> RefundRecord? {
        let json = try await read("read refund '\(refundID)'") { db in
            try String.fetchOne(db, sql: "SELECT data FROM refunds WHERE refund_id = ?", arguments: [refundID])
        }
        return try json.map { try Self.decode(RefundRecord.self, $0, "refund '\(refundID)'") }
    }

    public func usage(keys: [String]?) async throws -> [String: Int64] {
        try await read("read usage counters") { db in
            var usage: [String: Int64] = [:]
            if let keys {
                let statement = try db.cachedStatement(sql: "SELECT used FROM usage WHERE key = ?")
                for key in keys { usage[key] = try Int64.fetchOne(statement, arguments: [key]) }
            } else {
                for row in try Row.fetchAll(db, sql: "SELECT key, used FROM usage") {
                    usage[try row.decode(forColumn: "key")] = try row.decode(forColumn: "used")
                }
            }
            return usage
        }
    }

    public func coupons() async throws -> [Coupon] {
        let rows = try await read("read coupons") { db in
            try String.fetchAll(db, sql: "SELECT data FROM coupons ORDER BY code")
        }
        return try rows.map { try Self.decode(Coupon.self, $0, "a coupon") }
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ json: String, _ what: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(json.utf8))
        } catch {
            throw StoreError("cannot decode \(what): \(describe(error))")
        }
    }
}
