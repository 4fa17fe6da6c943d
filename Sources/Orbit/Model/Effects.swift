/// A message waiting in the outbox: delivered at least once by a sender outside the rules, never from inside one.
public struct OutboxMessage: Hashable, Sendable, Codable {
    /// `<event id>#<n>`: stable, so a delivery can be deduplicated downstream.
    public var id: String
    public var customerID: String
    public var channel: Channel
    public var template: String
    public var data: [String: JSONValue]
    public var queuedAt: Instant
    /// The rule that queued it.
    public var rule: String
}

/// What a rule proposes. The host validates and applies effects; rules never touch state.
public enum Effect: Hashable, Sendable {
    case awardPoints(Int64, expiresAt: Instant?)
    case deductPoints(Int64)
    case addTag(String)
    case removeTag(String)
    case setAttribute(String, JSONValue)
    case sendMessage(channel: Channel, template: String, data: [String: JSONValue])
    case emitEvent(type: String, data: [String: JSONValue])
    /// A coupon for the customer (`issue_coupon{ offer = "win-back", valid_days = 14 }`).
    case issueCoupon(Coupon)
}

/// An effect with where it came from: the rule, its file and line.
public struct ProposedEffect: Hashable, Sendable {
    public var effect: Effect
    public var rule: String
    /// Where the rule that proposed it is defined; for an emitted event, the line of the `emit` call.
    public var file: String
    public var line: Int?
}

/// What the engine tells its subscribers after it applied an event.
public enum EngineNotification: Hashable, Sendable {
    case pointsAwarded(customerID: String, points: Int64, rule: String?)
    case pointsSpent(customerID: String, points: Int64, rule: String?)
    case pointsExpired(customerID: String, points: Int64)
    case tierChanged(customerID: String, from: String?, to: String?)
    case segmentEntered(customerID: String, segment: String)
    case segmentLeft(customerID: String, segment: String)
    case messageQueued(OutboxMessage)
}
