/// Everything one event (or one expiry or inactivity lapse) changed, applied atomically: all of it or none.
public struct EventCommit: Hashable, Sendable {
    /// The event's id, or an id the engine derived (for a lapse: the customer and the instant).
    public var eventID: String
    /// Whether the store remembers ``eventID`` as applied: the idempotency guard of events received from outside,
    /// which a store applies at most once. False for lapses, which the engine derives from the customer and never
    /// receives: their guard is the customer's own state (the expiry done, the `inactive` handler fired), and between
    /// engines sharing a store ``expectedVersion``. (Half the commits of a replay are lapses; their id rows were a
    /// sixth of everything it wrote.)
    public var recordsEventID = true
    public var eventType: String
    public var customerID: String
    public var at: Instant
    /// The customer after the event.
    public var customer: Customer
    public var ledger: [PointsEntry]
    public var messages: [OutboxMessage]
    /// Segment membership after the event, when it changed.
    public var segments: Set<String>?
    /// Segment membership before the event, as the engine found it, when ``segments`` is set: what the store holds
    /// for the customer (the version check keeps them the same), so that a store can record the change without
    /// reading it. Nil: the store reads it.
    public var previousSegments: Set<String>?
    public var tierChange: TierChange?
    /// Effects applied, per rule (for reports).
    public var appliedEffects: [AppliedEffect]
    /// Coupons issued by rules.
    public var coupons: [Coupon] = []
    /// Usage counters consumed or given back; the store refuses the whole apply when one would exceed its limit.
    public var claims: [UsageClaim] = []
    /// The order committed (or updated by a refund) by this commit.
    public var order: OrderRecord? {
        get { orderStorage?.value }
        set { orderStorage = newValue.map(Boxed.init) }
    }
    /// The refund this commit applies.
    public var refund: RefundRecord? {
        get { refundStorage?.value }
        set { refundStorage = newValue.map(Boxed.init) }
    }
    // Boxed: an order record holds its whole quote, and most commits (every event of a replay) have neither. Inline,
    // the two made every commit 873 bytes instead of 457, copied whenever one was moved or read through a subscript.
    private var orderStorage: Boxed<OrderRecord>?
    private var refundStorage: Boxed<RefundRecord>?
    /// The score of a `survey` event, for NPS.
    public var surveyResponse: SurveyResponse?
    /// The version of the customer's stored record this commit was computed from (`-1`: none stored yet); the store
    /// refuses the batch with ``StaleCustomer`` when another process changed the customer since. Nil: not checked.
    public var expectedVersion: Int64?

    public init(
        eventID: String, eventType: String, customerID: String, at: Instant, customer: Customer,
        ledger: [PointsEntry] = [], messages: [OutboxMessage] = [], segments: Set<String>? = nil,
        previousSegments: Set<String>? = nil, tierChange: TierChange? = nil, appliedEffects: [AppliedEffect] = [], coupons: [Coupon] = [],
        surveyResponse: SurveyResponse? = nil, recordsEventID: Bool = true
    ) {
        self.eventID = eventID
        self.recordsEventID = recordsEventID
        self.eventType = eventType
        self.customerID = customerID
        self.at = at
        self.customer = customer
        self.ledger = ledger
        self.messages = messages
        self.segments = segments
        self.previousSegments = previousSegments
        self.tierChange = tierChange
        self.appliedEffects = appliedEffects
        self.coupons = coupons
        self.surveyResponse = surveyResponse
    }
}

/// An immutable value kept out of line, compared and hashed by value.
private final class Boxed<Value: Hashable & Sendable>: Hashable, Sendable {
    let value: Value

    init(_ value: Value) { self.value = value }

    static func == (lhs: Boxed, rhs: Boxed) -> Bool { lhs.value == rhs.value }
    func hash(into hasher: inout Hasher) { hasher.combine(value) }
}

/// A tier change, recorded with its instant.
public struct TierChange: Hashable, Sendable, Codable {
    public var from: String?
    public var to: String?
}

/// One applied effect as the store records it: which rule, what kind.
public struct AppliedEffect: Hashable, Sendable, Codable {
    public var rule: String
    public var kind: String
    public var detail: String
}

/// Where Orbit keeps its state. Implementations: ``MemoryStore`` (tests, REPL), `SQLiteStore` (the embedded
/// default) and, later, PostgreSQL. Every method is atomic on its own; ``apply(_:)`` is atomic for all its commits.
public protocol Store: Sendable {
    /// The customer with `id`, or nil.
    func customer(_ id: String) async throws -> Customer?
    /// Every customer (for segment listings and restarting schedules).
    func allCustomers() async throws -> [Customer]
    /// Which of `ids` were applied before.
    func appliedEventIDs(among ids: [String]) async throws -> Set<String>
    /// Applies the commits in one transaction: all or none. A commit whose event id was applied before is an error
    /// (the engine filters duplicates first; the store's uniqueness is the last line of defence). Event ids of
    /// commits that do not record theirs (``EventCommit/recordsEventID``) are neither checked nor remembered.
    func apply(_ commits: [EventCommit]) async throws
    /// ``apply(_:)`` once `predecessor` (the write before, in an ingestion that overlaps writes) has ended, and not
    /// at all when it failed. A store may meanwhile prepare what needs no database, such as encoding the commits.
    func apply(_ commits: [EventCommit], after predecessor: Task<Void, any Error>?) async throws
    /// The ledger of a customer, in order.
    func ledger(customerID: String) async throws -> [PointsEntry]
    /// The outbox messages of a customer, in order.
    func messages(customerID: String) async throws -> [OutboxMessage]
    /// Segment membership of a customer as last recorded.
    func segments(customerID: String) async throws -> Set<String>
    /// Erases a person's personal data (attributes, tags, consent, referral data, message contents) and keeps
    /// anonymised ledger and order totals. Returns false when the customer is unknown.
    func forget(customerID: String) async throws -> Bool
    /// Totals over the whole store, for summaries.
    func totals() async throws -> StoreTotals
    /// The order committed under `orderID`, with what was refunded since.
    func order(_ orderID: String) async throws -> OrderRecord?
    /// The refund applied under `refundID`.
    func refund(_ refundID: String) async throws -> RefundRecord?
    /// Usage counters (uses of offers and coupons, budgets spent) by key: those in `keys`, or all when nil.
    func usage(keys: [String]?) async throws -> [String: Int64]
    /// Every coupon issued by rules.
    func coupons() async throws -> [Coupon]
    /// The version of every stored customer record: it grows by one each time a batch writes the customer, so an
    /// engine can tell when another process changed a customer it holds.
    func customerVersions() async throws -> [String: Int64]

    // MARK: Analytics (docs/analytics.md)

    /// Every ledger entry, reduced to kind, points and instant, in no particular order.
    func pointsMovements() async throws -> [PointsMovement]
    /// Every recorded segment entry and exit, in the order written (recorded when a commit changes membership).
    func segmentChanges() async throws -> [SegmentChange]
    /// Every survey score recorded, in the order written.
    func surveyResponses() async throws -> [SurveyResponse]
    /// Uses and discount cost per offer for the uses within `interval`. Filled by the checkout; empty until offers
    /// have been used.
    func offerPerformance(during interval: Range<Instant>) async throws -> [OfferPerformance]
    /// Replaces the stored predictions (model parameters and per-customer predictions) with `predictions`.
    func savePredictions(_ predictions: PredictionSet) async throws
    /// The predictions of the last `orbit fit`, or nil.
    func predictions() async throws -> PredictionSet?
}

extension Store {
    /// Waits for `predecessor`, then applies: nothing to prepare.
    public func apply(_ commits: [EventCommit], after predecessor: Task<Void, any Error>?) async throws {
        try await predecessor?.value
        try await apply(commits)
    }
}

/// Totals a replay summary and reports read.
public struct StoreTotals: Hashable, Sendable, Codable, PointsTotals {
    public var customers: Int
    /// Events applied, remembered by id (lapses are not: see ``EventCommit/recordsEventID``).
    public var events: Int
    public var pointsIssued: Int64
    public var pointsSpent: Int64
    public var pointsExpired: Int64
    public var messages: Int
    public var tierCounts: [String: Int]
    public var segmentSizes: [String: Int]

    public init(
        customers: Int = 0, events: Int = 0, pointsIssued: Int64 = 0, pointsSpent: Int64 = 0,
        pointsExpired: Int64 = 0, messages: Int = 0, tierCounts: [String: Int] = [:], segmentSizes: [String: Int] = [:]
    ) {
        self.customers = customers
        self.events = events
        self.pointsIssued = pointsIssued
        self.pointsSpent = pointsSpent
        self.pointsExpired = pointsExpired
        self.messages = messages
        self.tierCounts = tierCounts
        self.segmentSizes = segmentSizes
    }
}

/// A store refused a batch because a customer's stored record changed since the engine read it (another process
/// wrote it): the engine reads its state again and retries.
public struct StaleCustomer: Error, Hashable, Sendable, CustomStringConvertible {
    public var customerID: String
    public init(customerID: String) { self.customerID = customerID }
    public var description: String { "customer '\(customerID)' was changed by another process" }
}

/// A store refused a commit: the same event id twice, or a storage failure.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
