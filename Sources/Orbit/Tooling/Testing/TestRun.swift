import Logging
import LuaRuntime

/// One test's world: an empty store in memory, a manual clock and an engine over a fresh rule book, driven by the
/// test's steps in order.
final class TestRun {
    /// Where a test's clock starts when it does not say `at "…"` first.
    static let start = Instant(iso8601: "2026-01-01T00:00:00Z") ?? Instant(millisecondsSinceEpoch: 0)

    let store = MemoryStore()
    let clock = ManualClock(TestRun.start)
    private let sources: RuleSources
    private let logger: Logger
    private var engine: Engine?
    /// The last event's outcome; nil after an order (a refused order is a rejected outcome).
    var lastOutcome: IngestOutcome?
    private var events = 0
    /// Refunds so far, for refund ids.
    var refunds = 0
    private var givens = 0

    init(sources: RuleSources, logger: Logger) {
        self.sources = sources
        self.logger = logger
    }

    /// The engine, made when first needed (again after `given`, so that it reads the new customer from the store).
    func currentEngine() throws -> Engine {
        if let engine { return engine }
        let made = Engine(rules: try sources.book(logger: logger), store: store, clock: clock, logger: logger)
        engine = made
        return made
    }

    /// Runs one step; the failure message when it fails. `next` is the step after it (`expect.rejected` makes a
    /// rejected event expected).
    func perform(_ step: TestStep, next: TestStep?) async throws -> String? {
        switch step.kind {
        case "given.customer":
            try await givenCustomer(step.arguments.first ?? .nil)
            return nil
        case "at":
            guard let text = step.arguments.first?.stringValue, let instant = Instant(iso8601: text) else {
                throw TestFailure("at needs an ISO 8601 instant with a zone: at \"2026-11-27T09:00:00+01:00\"")
            }
            clock.advance(to: instant)
            try await currentEngine().advance(to: instant)
            return nil
        case "event":
            guard case .object(let fields)? = step.arguments.first.flatMap(JSONValue.init) else {
                throw TestFailure(
                    "event needs a table: event{ type = \"purchase\", customer = \"anna\", total = eur(60) }")
            }
            events += 1
            let id = "test-event-\(events)"
            let outcome: IngestOutcome
            do {
                let event = try EventJSON.event(from: fields, defaultID: id, defaultAt: clock.now())
                if event.at > clock.now() { clock.advance(to: event.at) }
                outcome = try await currentEngine().ingest(event)
            } catch let rejection as EventRejection {
                // An event the input format refuses is rejected like one the engine refuses.
                outcome = IngestOutcome(eventID: id, status: .rejected(reason: rejection.description), effects: [])
            }
            lastOutcome = outcome
            if case .rejected(let reason) = outcome.status, next?.kind != "expect.rejected" {
                return "event rejected: \(reason)"
            }
            return nil
        case "order":
            return try await order(step.arguments.first ?? .nil, next: next)
        case "refund":
            return try await refund(step.arguments.first ?? .nil, next: next)
        default:
            let name = String(step.kind.dropFirst("expect.".count))
            guard let expectation = Expectations.table[name] else { throw TestFailure("unknown step \(step.kind)") }
            return try await expectation(self, step.arguments)
        }
    }

    func customer(_ id: String) async throws -> Customer {
        guard let customer = try await currentEngine().customer(id) else {
            throw TestFailure("no customer '\(id)': given.customer{ id = \"\(id)\" } or an event for them first")
        }
        return customer
    }

    func isMember(_ id: String, of segment: String) async throws -> Bool {
        _ = try await customer(id)
        return try await currentEngine().members(of: segment, at: clock.now()).contains(id)
    }

    func lastEffects() throws -> [AppliedEffect] {
        guard let lastOutcome else {
            throw TestFailure(
                "no event since the test began or the last order: expect.effect checks an event's effects")
        }
        return lastOutcome.effects
    }

    /// `given.customer{ id = "anna", signed_up_at = "…", consent = { email = true }, attributes = {…}, tags = {…},
    /// points = 500, tier = "gold" }`: the customer as the store would hold them.
    private func givenCustomer(_ value: LuaValue) async throws {
        let allowed = [
            "id", "signed_up_at", "consent", "attributes", "tags", "points", "tier", "referral_code", "referrer",
        ]
        guard case .map(let fields) = value else {
            throw TestFailure("given.customer needs a table: given.customer{ id = \"anna\" }")
        }
        for key in fields.keys {
            let name = key.stringValue ?? key.description
            guard allowed.contains(name) else {
                throw TestFailure(
                    "given.customer: unknown field '\(name)'\(Suggestion.didYouMean(name, among: allowed))")
            }
        }
        guard let id = value["id"].stringValue, !id.isEmpty else {
            throw TestFailure("given.customer needs id = \"…\"")
        }
        var signedUp = clock.now()
        if let text = value["signed_up_at"].stringValue {
            guard let instant = Instant(iso8601: text) else {
                throw TestFailure("signed_up_at: not an ISO 8601 instant: \(text)")
            }
            signedUp = instant
        }
        var customer = Customer(id: id, signedUpAt: signedUp)
        if case .map(let consent) = value["consent"] {
            for (channel, granted) in consent {
                guard let name = channel.stringValue, let channel = Channel(rawValue: name),
                    case .bool(let flag) = granted
                else {
                    throw TestFailure("consent: channels are email, push, sms, whatsapp, each true or false")
                }
                customer.consent[channel] = flag
            }
        }
        if case .object(let attributes)? = JSONValue(value["attributes"]) { customer.attributes = attributes }
        if case .array(let tags) = value["tags"] { customer.tags = Set(tags.compactMap(\.stringValue)) }
        if let points = value["points"].integerValue, points > 0 {
            customer.wallet.add(PointsBatch(entryID: "given:\(id)", remaining: points, expiresAt: nil))
            customer.pointsEarned = points
        }
        customer.tier = value["tier"].stringValue
        customer.referralCode = value["referral_code"].stringValue
        customer.referrer = value["referrer"].stringValue
        givens += 1
        try await store.apply([
            EventCommit(
                eventID: "given:\(givens)", eventType: "given", customerID: id, at: signedUp, customer: customer)
        ])
        engine = nil
    }
}
