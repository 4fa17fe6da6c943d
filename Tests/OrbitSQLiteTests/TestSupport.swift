import Foundation
import Orbit
import OrbitSQLite
import Testing

/// Runs `body` with a fresh directory under the system temporary directory, removed afterwards.
func withTemporaryDirectory<T>(
    isolation: isolated (any Actor)? = #isolation, _ body: (URL) async throws -> T
) async throws -> T {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("orbit-sqlite-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try await body(directory)
}

/// The path of a database file in `directory`.
func databasePath(in directory: URL) -> String {
    directory.appendingPathComponent("orbit.db").path
}

/// 2026-01-01T00:00:00Z plus `days` and `minutes`.
func instant(days: Int = 0, minutes: Int = 0) -> Instant {
    Instant(millisecondsSinceEpoch: 1_767_225_600_000 + Int64(days) * 86_400_000 + Int64(minutes) * 60_000)
}

/// Builds a model value whose memberwise initialiser is internal to Orbit, through its `Codable` conformance.
func decoded<T: Decodable>(_ type: T.Type, _ fields: [String: JSONValue]) throws -> T {
    try JSONDecoder().decode(T.self, from: JSONEncoder().encode(JSONValue.object(fields)))
}

func ledgerEntry(
    _ id: String, customer: String, kind: PointsEntry.Kind, points: Int64, at: Instant, expiresAt: Instant? = nil,
    rule: String? = nil, event: String? = nil, reason: String? = nil
) throws -> PointsEntry {
    var fields: [String: JSONValue] = [
        "id": .string(id), "customerID": .string(customer), "kind": .string(kind.rawValue),
        "points": .integer(points), "at": .string(at.description),
    ]
    if let expiresAt { fields["expiresAt"] = .string(expiresAt.description) }
    if let rule { fields["rule"] = .string(rule) }
    if let event { fields["eventID"] = .string(event) }
    if let reason { fields["reason"] = .string(reason) }
    return try decoded(PointsEntry.self, fields)
}

func outboxMessage(
    _ id: String, customer: String, channel: Channel = .email, template: String, data: [String: JSONValue],
    at: Instant, rule: String
) throws -> OutboxMessage {
    try decoded(
        OutboxMessage.self,
        [
            "id": .string(id), "customerID": .string(customer), "channel": .string(channel.rawValue),
            "template": .string(template), "data": .object(data), "queuedAt": .string(at.description),
            "rule": .string(rule),
        ]
    )
}

func appliedEffect(_ rule: String, kind: String, detail: String) throws -> AppliedEffect {
    try decoded(AppliedEffect.self, ["rule": .string(rule), "kind": .string(kind), "detail": .string(detail)])
}

func tierChange(from: String?, to: String?) throws -> TierChange {
    try decoded(TierChange.self, ["from": from.map(JSONValue.string) ?? .null, "to": to.map(JSONValue.string) ?? .null])
}

func order(_ id: String, at: Instant, cents: Int64) throws -> OrderSummary {
    try decoded(
        OrderSummary.self,
        [
            "orderID": .string(id), "at": .string(at.description),
            "total": .object(["minorUnits": .integer(cents), "currency": .string("EUR")]),
        ]
    )
}

func batch(_ entryID: String, remaining: Int64, expiresAt: Instant?) throws -> PointsBatch {
    var fields: [String: JSONValue] = ["entryID": .string(entryID), "remaining": .integer(remaining)]
    if let expiresAt { fields["expiresAt"] = .string(expiresAt.description) }
    return try decoded(PointsBatch.self, fields)
}

/// A small history built by hand: three customers, signups, purchases with points, messages, segments and a tier
/// change, a redemption and an expiry. Commits are in order; each carries the customer's state after it.
func sampleCommits() throws -> [EventCommit] {
    var commits: [EventCommit] = []

    var ada = Customer(id: "ada", signedUpAt: instant())
    ada.attributes = ["email": .string("ada@example.com"), "age": .integer(36), "score": .number(2.5)]
    ada.tags = ["vip", "newsletter"]
    ada.consent = [.email: true, .sms: false]
    ada.referralCode = "ADA-1"
    commits.append(
        EventCommit(
            eventID: "e-1", eventType: "signup", customerID: "ada", at: instant(), customer: ada,
            messages: [
                try outboxMessage(
                    "e-1#0", customer: "ada", template: "welcome", data: ["name": .string("Ada")], at: instant(),
                    rule: "welcome"
                )
            ],
            segments: ["new"],
            appliedEffects: [try appliedEffect("welcome", kind: "sendMessage", detail: "email/welcome")]
        )
    )

    var bob = Customer(id: "bob", signedUpAt: instant(minutes: 5))
    bob.attributes = ["email": .string("bob@example.com")]
    bob.referrer = "ADA-1"
    commits.append(
        EventCommit(eventID: "e-2", eventType: "signup", customerID: "bob", at: instant(minutes: 5), customer: bob)
    )

    let purchaseAt = instant(days: 1)
    let earn = try ledgerEntry(
        "e-3#0", customer: "ada", kind: .earn, points: 500, at: purchaseAt, expiresAt: instant(days: 366),
        rule: "points-per-euro", event: "e-3", reason: "points-per-euro"
    )
    ada.orders.append(try order("o-1", at: purchaseAt, cents: 50_000))
    ada.wallet.add(try batch("e-3#0", remaining: 500, expiresAt: instant(days: 366)))
    ada.lastEventAt = purchaseAt
    ada.tier = "silver"
    commits.append(
        EventCommit(
            eventID: "e-3", eventType: "purchase", customerID: "ada", at: purchaseAt, customer: ada, ledger: [earn],
            messages: [
                try outboxMessage(
                    "e-3#1", customer: "ada", channel: .push, template: "tier-up",
                    data: ["tier": .string("silver"), "points": .integer(500)], at: purchaseAt, rule: "tiers"
                )
            ],
            segments: ["buyers", "big-spenders"], tierChange: try tierChange(from: nil, to: "silver"),
            appliedEffects: [
                try appliedEffect("points-per-euro", kind: "awardPoints", detail: "500"),
                try appliedEffect("tiers", kind: "sendMessage", detail: "push/tier-up"),
            ]
        )
    )

    let bobAt = instant(days: 2)
    bob.orders.append(try order("o-2", at: bobAt, cents: 2_000))
    bob.wallet.add(try batch("e-4#0", remaining: 20, expiresAt: instant(days: 30)))
    bob.wallet.add(try batch("e-4#1", remaining: 100, expiresAt: nil))
    bob.lastEventAt = bobAt
    commits.append(
        EventCommit(
            eventID: "e-4", eventType: "purchase", customerID: "bob", at: bobAt, customer: bob,
            ledger: [
                try ledgerEntry(
                    "e-4#0", customer: "bob", kind: .earn, points: 20, at: bobAt, expiresAt: instant(days: 30),
                    rule: "points-per-euro", event: "e-4"
                ),
                try ledgerEntry(
                    "e-4#1", customer: "bob", kind: .earn, points: 100, at: bobAt, rule: "referral-bonus", event: "e-4"
                ),
            ],
            segments: ["buyers"]
        )
    )

    let redeemAt = instant(days: 3)
    _ = ada.wallet.spend(200)
    ada.lastEventAt = redeemAt
    commits.append(
        EventCommit(
            eventID: "e-5", eventType: "redeem", customerID: "ada", at: redeemAt, customer: ada,
            ledger: [
                try ledgerEntry("e-5#0", customer: "ada", kind: .redeem, points: -200, at: redeemAt, event: "e-5")
            ],
            segments: ["buyers"]
        )
    )

    let expireAt = instant(days: 30)
    _ = bob.wallet.expire(through: expireAt)
    bob.lastEventAt = expireAt
    commits.append(
        EventCommit(
            eventID: "expire:e-4#0", eventType: "expiry", customerID: "bob", at: expireAt, customer: bob,
            ledger: [
                try ledgerEntry(
                    "expire:e-4#0", customer: "bob", kind: .expire, points: -20, at: expireAt,
                    reason: "expired batch e-4#0"
                )
            ]
        )
    )

    let carol = Customer(id: "carol", signedUpAt: instant(days: 4))
    commits.append(
        EventCommit(eventID: "e-6", eventType: "signup", customerID: "carol", at: instant(days: 4), customer: carol)
    )
    return commits
}

/// A commit for the throughput test: a customer with some history, two ledger entries, a message every fourth
/// commit and a segment update every tenth.
/// A purchase by one of `customers` customers; one commit in `segmentsEvery` says what the customer's segments are
/// now, but not what they were (the store works that out).
func syntheticCommit(_ index: Int, customers: Int, segmentsEvery: Int = 10) throws -> EventCommit {
    let customerID = "c-\(index % customers)"
    let at = instant(minutes: index)
    var customer = Customer(id: customerID, signedUpAt: instant())
    customer.attributes = ["email": .string("\(customerID)@example.com"), "plan": .string("gold"), "age": .integer(40)]
    customer.tags = ["newsletter", "app"]
    customer.consent = [.email: true, .push: true]
    customer.tier = index % 3 == 0 ? "gold" : "silver"
    for number in 0..<3 {
        customer.orders.append(try order("o-\(index)-\(number)", at: at, cents: 4_999))
    }
    customer.wallet.add(try batch("e-\(index)#0", remaining: 50, expiresAt: at.adding(days: 365)))
    customer.lastEventAt = at
    let eventID = "e-\(index)"
    return EventCommit(
        eventID: eventID, eventType: "purchase", customerID: customerID, at: at, customer: customer,
        ledger: [
            try ledgerEntry(
                "\(eventID)#0", customer: customerID, kind: .earn, points: 50, at: at, expiresAt: at.adding(days: 365),
                rule: "points-per-euro", event: eventID
            ),
            try ledgerEntry("\(eventID)#1", customer: customerID, kind: .redeem, points: -10, at: at, event: eventID),
        ],
        messages: index % 4 == 0
            ? [
                try outboxMessage(
                    "\(eventID)#2", customer: customerID, template: "thanks", data: ["points": .integer(50)], at: at,
                    rule: "thanks"
                )
            ] : [],
        segments: index % segmentsEvery == 0 ? ["buyers"] : nil,
        appliedEffects: [try appliedEffect("points-per-euro", kind: "awardPoints", detail: "50")]
    )
}

/// Everything a store says about `customers`, for comparing two stores.
struct Snapshot: Equatable {
    var totals: StoreTotals
    var customers: [Customer]
    var ledgers: [[PointsEntry]]
    var messages: [[OutboxMessage]]
    var segments: [Set<String>]
    var segmentChanges: [SegmentChange]
    var surveyResponses: [SurveyResponse]

    init(_ store: any Store, customers ids: [String]) async throws {
        totals = try await store.totals()
        customers = try await store.allCustomers()
        segmentChanges = try await store.segmentChanges()
        surveyResponses = try await store.surveyResponses()
        var ledgers: [[PointsEntry]] = []
        var messages: [[OutboxMessage]] = []
        var segments: [Set<String>] = []
        for id in ids {
            ledgers.append(try await store.ledger(customerID: id))
            messages.append(try await store.messages(customerID: id))
            segments.append(try await store.segments(customerID: id))
        }
        self.ledgers = ledgers
        self.messages = messages
        self.segments = segments
    }
}

/// Applies `commits` in two batches, split after the first `split`, to a memory store and to a SQLite file in
/// `directory`; returns what each then says about `customers`.
func snapshotsOfBothStores(
    _ commits: [EventCommit], splitAfter split: Int, in directory: URL, customers: [String]
) async throws -> (memory: Snapshot, sqlite: Snapshot) {
    let memory = MemoryStore()
    let sqlite = try SQLiteStore(path: databasePath(in: directory))
    for store in [memory, sqlite] as [any Store] {
        try await store.apply(Array(commits.prefix(split)))
        try await store.apply(Array(commits.dropFirst(split)))
    }
    return (try await Snapshot(memory, customers: customers), try await Snapshot(sqlite, customers: customers))
}
