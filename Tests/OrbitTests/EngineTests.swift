import Logging
import LuaRuntime
import Testing

@testable import Orbit

/// Builds an engine over inline rule files and a memory store, at a fixed start time.
struct EngineFixture {
    let engine: Engine
    let store: MemoryStore
    let clock: ManualClock

    init(_ rules: [String: String], start: String = "2026-01-01T00:00:00Z", limits: LuaLimits = LuaLimits()) throws {
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let book = try RuleBook(
            sources: rules.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, limits: limits, logger: logger)
        store = MemoryStore()
        clock = ManualClock(try #require(Instant(iso8601: start)))
        engine = Engine(rules: book, store: store, clock: clock, logger: logger)
    }
}

func at(_ text: String) -> Instant {
    Instant(iso8601: text) ?? Instant(millisecondsSinceEpoch: 0)
}

func purchase(_ id: String, _ customer: String, _ time: String, cents: Int64, order: String? = nil) -> Event {
    Event(id: id, type: "purchase", customerID: customer, at: at(time),
          total: Money(minorUnits: cents, currency: .eur), orderID: order ?? "o-\(id)")
}

@Suite("Engine")
struct EngineTests {
    static let points = """
        earn "points-per-euro" {
          on = "purchase",
          points = function(e, c) return e.total // 100 * c.tier.multiplier end,
          expires = { days = 365 },
        }
        tiers {
          { name = "silver" },
          { name = "gold", min_points = 100, multiplier = 2 },
        }
        """

    @Test("earning rules award points; tiers follow points earned; subscribers hear about it")
    func earningAndTiers() async throws {
        let fixture = try EngineFixture(["rules/points.lua": Self.points])
        var iterator = fixture.engine.notifications.makeAsyncIterator()
        let first = try await fixture.engine.ingest(purchase("e-1", "c-1", "2026-01-02T10:00:00Z", cents: 8050))
        #expect(first.status == .applied)
        var customer = try #require(try await fixture.engine.customer("c-1"))
        #expect(customer.pointsBalance == 80)
        #expect(customer.tier == "silver")
        #expect(await iterator.next() == .pointsAwarded(customerID: "c-1", points: 80, rule: "points-per-euro"))
        #expect(await iterator.next() == .tierChanged(customerID: "c-1", from: nil, to: "silver"))
        _ = try await fixture.engine.ingest(purchase("e-2", "c-1", "2026-01-03T10:00:00Z", cents: 3000))
        customer = try #require(try await fixture.engine.customer("c-1"))
        #expect(customer.pointsBalance == 110)
        #expect(customer.tier == "gold")
        _ = try await fixture.engine.ingest(purchase("e-3", "c-1", "2026-01-04T10:00:00Z", cents: 1000))
        customer = try #require(try await fixture.engine.customer("c-1"))
        #expect(customer.pointsBalance == 130, "gold doubles: 10 EUR earn 20 points")
        let ledger = await fixture.store.ledger(customerID: "c-1")
        #expect(ledger.map(\.points) == [80, 30, 20])
        #expect(ledger.allSatisfy { $0.expiresAt != nil && $0.rule == "points-per-euro" })
        #expect(ledger.allSatisfy { $0.reason == nil }, "the rule is the reason: the ledger does not store it twice")
    }

    @Test("an event id is applied once; a duplicate is counted, not applied")
    func idempotency() async throws {
        let fixture = try EngineFixture(["rules/points.lua": Self.points])
        let event = purchase("e-1", "c-1", "2026-01-02T10:00:00Z", cents: 5000)
        let outcomes = try await fixture.engine.ingest([event, event])
        #expect(outcomes.map(\.status) == [.applied, .duplicate])
        let again = try await fixture.engine.ingest(event)
        #expect(again.status == .duplicate)
        #expect(try await fixture.engine.customer("c-1")?.pointsBalance == 50)
        #expect(await fixture.store.ledger(customerID: "c-1").count == 1)
    }

    @Test("a rule failing midway leaves nothing of that event; the next event goes on")
    func atomicity() async throws {
        let fixture = try EngineFixture([
            "rules/points.lua": Self.points,
            "rules/broken.lua": """
                on "purchase" (function(e, c)
                  award(500)
                  tag("half-done")
                  if e.total > 10000 then
                    local missing = nil
                    return missing.field
                  end
                end)
                """,
        ])
        let outcomes = try await fixture.engine.ingest([
            purchase("e-1", "c-1", "2026-01-02T10:00:00Z", cents: 20000),
            purchase("e-2", "c-1", "2026-01-03T10:00:00Z", cents: 1000),
        ])
        guard case .rejected(let reason) = outcomes[0].status else {
            Issue.record("expected a rejection, got \(outcomes[0].status)")
            return
        }
        #expect(reason.hasPrefix("rules/broken.lua:6: in on purchase (rules/broken.lua:1): attempt to index a nil value"))
        #expect(outcomes[1].status == .applied)
        let customer = try #require(try await fixture.engine.customer("c-1"))
        #expect(customer.pointsBalance == 10 + 500)
        #expect(customer.orderCount == 1, "the rejected purchase is not recorded either")
        #expect(await fixture.store.ledger(customerID: "c-1").map(\.points) == [10, 500])
    }

    @Test("a customer kept by a rule beyond its call is an error on the next event, never another customer")
    func customerKeptAcrossCalls() async throws {
        let fixture = try EngineFixture([
            "rules/keep.lua": """
                local last
                on "visit" (function(e, c)
                  if last then tag("after-" .. last.id) end
                  last = c
                end)
                """
        ])
        let outcomes = try await fixture.engine.ingest([
            Event(id: "v-1", type: "visit", customerID: "anna", at: at("2026-01-02T10:00:00Z")),
            Event(id: "v-2", type: "visit", customerID: "ben", at: at("2026-01-02T11:00:00Z")),
        ])
        #expect(outcomes[0].status == .applied)
        guard case .rejected(let reason) = outcomes[1].status else {
            Issue.record("expected a rejection, got \(outcomes[1].status)")
            return
        }
        #expect(reason.hasPrefix("rules/keep.lua:3: in on visit (rules/keep.lua:2): this customer is no longer available"))
        #expect(try await fixture.engine.customer("ben") == nil)
    }

    @Test("spending takes the batch that expires first; expiries materialise when time passes them")
    func expiryOrder() async throws {
        let fixture = try EngineFixture([
            "rules/r.lua": """
                on "visit" (function(e, c) award(100, { expires = { days = 30 } }) end)
                on "review" (function(e, c) award(50, { expires = { days = 10 } }) end)
                on "redeem" (function(e, c) deduct(e.points) end)
                """
        ])
        let visit = Event(id: "v", type: "visit", customerID: "c", at: at("2026-01-01T00:00:00Z"))
        let review = Event(id: "r", type: "review", customerID: "c", at: at("2026-01-02T00:00:00Z"))
        let redeem = Event(
            id: "x", type: "redeem", customerID: "c", at: at("2026-01-03T00:00:00Z"), data: ["points": .integer(60)])
        _ = try await fixture.engine.ingest([visit, review, redeem])
        // 60 points: all 50 of the review batch (expires 01-12) and 10 of the visit batch (expires 01-31).
        #expect(try await fixture.engine.customer("c")?.pointsBalance == 90)
        #expect(try await fixture.engine.advance(to: at("2026-01-20T00:00:00Z")) == 0, "the review batch is empty")
        #expect(try await fixture.engine.advance(to: at("2026-02-01T00:00:00Z")) == 1)
        let ledger = await fixture.store.ledger(customerID: "c")
        #expect(ledger.map(\.kind) == [.earn, .earn, .redeem, .expire])
        // The rule or the expired batch's id says why; no reason repeats it.
        #expect(ledger.map(\.reason) == [nil, nil, nil, nil])
        #expect(ledger.last?.id == "expire:\(ledger[0].id)")
        #expect(ledger.last?.points == -90)
        #expect(ledger.last?.at == at("2026-01-31T00:00:00Z"))
        #expect(try await fixture.engine.customer("c")?.pointsBalance == 0)
    }

    @Test("an inactive handler fires once per lapse, and again after the next order lapses")
    func inactivity() async throws {
        let fixture = try EngineFixture([
            "rules/winback.lua": """
                on "inactive" { days = 90 } (function(c) tag("winback") award(10) end)
                on "purchase" (function(e, c) untag("winback") end)
                """
        ])
        _ = try await fixture.engine.ingest(purchase("p1", "c", "2026-01-01T12:00:00Z", cents: 100))
        #expect(try await fixture.engine.advance(to: at("2026-03-31T00:00:00Z")) == 0)
        #expect(try await fixture.engine.advance(to: at("2026-04-01T12:00:00Z")) == 1)
        #expect(try await fixture.engine.advance(to: at("2026-12-31T00:00:00Z")) == 0, "once per lapse")
        var customer = try #require(try await fixture.engine.customer("c"))
        #expect(customer.tags == ["winback"])
        #expect(customer.pointsBalance == 10)
        _ = try await fixture.engine.ingest(purchase("p2", "c", "2027-01-01T00:00:00Z", cents: 100))
        customer = try #require(try await fixture.engine.customer("c"))
        #expect(customer.tags.isEmpty)
        // A later event moves time past the next lapse: it runs first, then the event.
        _ = try await fixture.engine.ingest(purchase("p3", "c", "2027-06-01T00:00:00Z", cents: 100))
        customer = try #require(try await fixture.engine.customer("c"))
        #expect(customer.pointsBalance == 20)
        #expect(customer.tags.isEmpty, "the purchase after the lapse cleared the tag again")
    }

    @Test("rules cannot stop time: a failing inactive handler leaves none of its effects, a failing segment keeps the old")
    func failingRulesAtLapses() async throws {
        let fixture = try EngineFixture([
            "rules/broken.lua": """
                earn "points" { on = "purchase", points = 5, expires = { days = 30 } }
                on "inactive" { days = 10 } (function(c)
                  tag("lapsed")
                  award(100)
                  local missing = nil
                  return missing.field
                end)
                segment "recent" {
                  when = function(c)
                    if (c.days_since_last_order or 0) > 20 then error("segment broke") end
                    return true
                  end,
                }
                """
        ])
        _ = try await fixture.engine.ingest(purchase("p1", "c", "2026-01-01T00:00:00Z", cents: 100))
        #expect(try await fixture.engine.members(of: "recent", at: at("2026-01-02T00:00:00Z")) == ["c"])
        // Day 11: the inactive lapse (the handler fails halfway). Day 31: the points expire (the segment fails).
        #expect(try await fixture.engine.advance(to: at("2026-02-15T00:00:00Z")) == 2)
        let customer = try #require(try await fixture.engine.customer("c"))
        #expect(customer.tags.isEmpty, "nothing of the failing handler")
        #expect(customer.pointsBalance == 0, "the 5 points expired; the handler's 100 were never awarded")
        #expect(customer.inactiveLapsesFired[10] != nil, "the lapse counts as fired: it does not run again")
        #expect(await fixture.store.segments(customerID: "c") == ["recent"], "kept as it was")
        #expect(try await fixture.engine.advance(to: at("2026-06-01T00:00:00Z")) == 0)
    }

    @Test("segments: entered and left are published; members are evaluated on demand")
    func segments() async throws {
        let fixture = try EngineFixture([
            "rules/segments.lua": """
                segment "big" { when = function(c) return c:spent{ days = 30 } >= eur(100) end }
                segment "known" { when = function(c) return c:in_segment("big") or c.order_count > 1 end }
                """
        ])
        var iterator = fixture.engine.notifications.makeAsyncIterator()
        _ = try await fixture.engine.ingest(purchase("p1", "c", "2026-01-01T00:00:00Z", cents: 15000))
        #expect(await iterator.next() == .segmentEntered(customerID: "c", segment: "big"))
        #expect(await iterator.next() == .segmentEntered(customerID: "c", segment: "known"))
        #expect(try await fixture.engine.members(of: "big", at: at("2026-01-15T00:00:00Z")) == ["c"])
        #expect(try await fixture.engine.members(of: "big", at: at("2026-03-01T00:00:00Z")) == [])
        await #expect(throws: (any Error).self) { try await fixture.engine.members(of: "bgi") }
    }

    @Test("messages are queued only with consent for their channel")
    func consent() async throws {
        let fixture = try EngineFixture([
            "rules/welcome.lua": """
                on "signup" (function(e, c) send("email", "welcome", { name = "x" }) send("sms", "welcome") end)
                """
        ])
        let signup = Event(
            id: "s", type: "signup", customerID: "c", at: at("2026-01-01T00:00:00Z"),
            data: ["consent": .object(["email": .bool(true), "sms": .bool(false)])])
        let outcome = try await fixture.engine.ingest(signup)
        let messages = await fixture.store.messages(customerID: "c")
        #expect(messages.map(\.channel) == [.email])
        #expect(outcome.effects.map(\.kind) == ["send", "skipped"])
    }

    @Test("c.tier and c.consent are read-only tables, the same for every read of the same tier or consents")
    func sharedCustomerTables() async throws {
        let fixture = try EngineFixture([
            "rules/tiers.lua": #"""
                tiers { { name = "silver" }, { name = "gold", min_points = 100, multiplier = 2 } }
                earn "per-euro" { on = "purchase", points = function(e, c) return e.total // 100 end }
                on "signup" (function(e, c)
                  local consent = c.consent
                  tag(("%s %s email=%s sms=%s push=%s"):format(c.tier.name, c.tier.multiplier, consent.email,
                    consent.sms, consent.push))
                  if rawequal(c.tier, c.tier) and rawequal(c.consent, consent) then tag("shared") end
                  if not pcall(function() c.tier.multiplier = 10 end) then tag("read-only") end
                end)
                on "purchase" (function(e, c) tag(c.tier.name .. " x" .. c.tier.multiplier) end)
                """#,
        ])
        for (customer, consent) in [("ann", ["email": JSONValue.bool(true)]), ("ben", ["sms": .bool(true), "email": .bool(false)])] {
            let signup = Event(
                id: "s-\(customer)", type: "signup", customerID: customer, at: at("2026-01-01T00:00:00Z"),
                data: ["consent": .object(consent)])
            _ = try await fixture.engine.ingest(signup)
        }
        _ = try await fixture.engine.ingest(purchase("p-1", "ann", "2026-01-02T00:00:00Z", cents: 20_000))
        _ = try await fixture.engine.ingest(purchase("p-2", "ann", "2026-01-03T00:00:00Z", cents: 100))
        let ann = try #require(try await fixture.engine.customer("ann")).tags
        let ben = try #require(try await fixture.engine.customer("ben")).tags
        // At sign-up the customer holds no tier yet: the tier is found after each event.
        #expect(ann == ["nil 1 email=true sms=false push=false", "shared", "read-only", "silver x1.0", "gold x2.0"])
        #expect(ben == ["nil 1 email=false sms=true push=false", "shared", "read-only"])
        #expect(try await fixture.engine.tierCounts() == ["gold": 1, "silver": 1])
        #expect(try await fixture.engine.tierCounts() == (await fixture.store.totals()).tierCounts)
    }

    @Test("rules may emit events, handled in the same transaction, to a bounded depth")
    func emittedEvents() async throws {
        let fixture = try EngineFixture([
            "rules/emit.lua": """
                on "purchase" (function(e, c) if c.order_count == 3 then emit("third-order", { n = 3 }) end end)
                on "third-order" (function(e, c) award(e.n * 100) end)
                on "loop" (function(e, c) emit("loop") end)
                """
        ])
        _ = try await fixture.engine.ingest([
            purchase("p1", "c", "2026-01-01T00:00:00Z", cents: 100),
            purchase("p2", "c", "2026-01-02T00:00:00Z", cents: 100),
            purchase("p3", "c", "2026-01-03T00:00:00Z", cents: 100),
        ])
        #expect(try await fixture.engine.customer("c")?.pointsBalance == 300)
        let loop = try await fixture.engine.ingest(Event(id: "l", type: "loop", customerID: "c", at: at("2026-01-04T00:00:00Z")))
        guard case .rejected(let reason) = loop.status else {
            Issue.record("a self-emitting handler must be rejected")
            return
        }
        #expect(reason.contains("nest deeper than 8 levels"))
    }

    @Test("points per amount on an emitted event count the total the rule passed, as e.total would")
    func pointsPerAmountOnEmittedEvents() async throws {
        let fixture = try EngineFixture([
            "rules/emit.lua": """
                on "purchase" (function(e, c) if e.total >= eur(50) then emit("big-order", { total = e.total }) end end)
                earn "big-order-bonus" { on = "big-order", points = { per = eur(10) } }
                """
        ])
        let outcome = try await fixture.engine.ingest(purchase("p1", "c", "2026-01-01T00:00:00Z", cents: 12_345))
        #expect(outcome.effects.map(\.detail) == ["big-order", "12 points"])
    }

    @Test("inactive handlers of the same days with different conditions each run for the customers they are for")
    func inactiveHandlersOfTheSameDays() async throws {
        let fixture = try EngineFixture([
            "rules/lapse.lua": """
                on "inactive" { days = 30, orders = { at_least = 2 } } (function(c) tag("lapsed-regular") end)
                on "inactive" { days = 30, orders = { at_most = 1 } } (function(c) tag("lapsed-one-off") end)
                """
        ])
        _ = try await fixture.engine.ingest([
            purchase("p1", "once", "2026-01-01T00:00:00Z", cents: 100),
            purchase("p2", "twice", "2026-01-01T00:00:00Z", cents: 100),
            purchase("p3", "twice", "2026-01-02T00:00:00Z", cents: 100),
        ])
        try await fixture.engine.advance(to: at("2026-03-01T00:00:00Z"))
        #expect(try await fixture.engine.customer("once")?.tags == ["lapsed-one-off"])
        #expect(try await fixture.engine.customer("twice")?.tags == ["lapsed-regular"])
        #expect(try await fixture.engine.advance(to: at("2026-06-01T00:00:00Z")) == 0, "each fired once for this lapse")
    }

    @Test("bad events are rejected with the reason, and change nothing")
    func rejections() async throws {
        let fixture = try EngineFixture(["rules/points.lua": Self.points])
        let outcomes = try await fixture.engine.ingest([
            purchase("p1", "c", "2026-01-05T00:00:00Z", cents: 1000, order: "o-1"),
            purchase("p0", "c", "2026-01-04T00:00:00Z", cents: 1000),
            Event(id: "r1", type: "refund", customerID: "c", at: at("2026-01-06T00:00:00Z"),
                  total: Money(minorUnits: 500, currency: .eur), orderID: "o-404"),
            Event(id: "r2", type: "refund", customerID: "c", at: at("2026-01-06T00:00:00Z"),
                  total: Money(minorUnits: 5000, currency: .eur), orderID: "o-1"),
            Event(id: "r3", type: "refund", customerID: "c", at: at("2026-01-06T00:00:00Z"),
                  total: Money(minorUnits: 400, currency: .eur), orderID: "o-1"),
        ])
        let reasons = outcomes.map { outcome -> String in
            if case .rejected(let reason) = outcome.status { reason } else { "\(outcome.status)" }
        }
        #expect(reasons[0] == "applied")
        #expect(reasons[1].contains("older than customer 'c''s last event"))
        #expect(reasons[2] == "refund of unknown order 'o-404' of customer 'c'")
        #expect(reasons[3].contains("more than what is left of order 'o-1' (10.00 EUR)"))
        #expect(reasons[4] == "applied")
        #expect(try await fixture.engine.customer("c")?.lifetimeSpend == 600)
    }

    @Test("A/B buckets are deterministic and follow the weights")
    func buckets() throws {
        var counts: [String: Int] = [:]
        for index in 0..<10_000 {
            let bucket = try Bucketing.bucket(
                customerID: "c-\(index)", experiment: "winback-2026", weights: ["control": 20, "variant": 80])
            counts[bucket, default: 0] += 1
        }
        #expect((1_800...2_200).contains(counts["control"] ?? 0))
        let again = try Bucketing.bucket(customerID: "c-7", experiment: "winback-2026", weights: ["control": 20, "variant": 80])
        #expect(again == (try Bucketing.bucket(customerID: "c-7", experiment: "winback-2026", weights: ["variant": 80, "control": 20])))
    }
}

@Suite("Rules only read the event")
struct EventIsReadOnlyTests {
    @Test("a handler cannot change the event another rule sees")
    func eventIsReadOnly() async throws {
        let fixture = try EngineFixture([
            "rules/a.lua": #"on "purchase" (function(e, c) e.total = 0 end)"#,
            "rules/b.lua": #"on "order" (function(e, c) e.items[1].price = 0 end)"#,
        ])
        var event = purchase("p", "c", "2026-01-01T00:00:00Z", cents: 100)
        event.items = [LineItem(sku: "A1", quantity: 1, price: 100)]
        var order = event
        order.id = "o"
        order.type = "order"
        for (event, expected) in [
            (event, "rules/a.lua:1: in on purchase (rules/a.lua:1): attempt to modify read-only event (field 'total')"),
            (order, "rules/b.lua:1: in on order (rules/b.lua:1): attempt to modify read-only table 'event.items.1' (field 'price')"),
        ] {
            guard case .rejected(let reason) = try await fixture.engine.ingest(event).status else {
                Issue.record("expected a rejection")
                return
            }
            #expect(reason == expected)
        }
    }

    @Test("rules read the event's own fields and the shop's extra fields; a field the shop did not send is nil")
    func eventFields() async throws {
        let fixture = try EngineFixture([
            "rules/review.lua": #"""
                on "review" (function(e, c)
                  tag(table.concat({ e.id, e.type, e.customer, e.at, tostring(e.total), tostring(e.order) }, " "))
                  if e.has_photo == true and e.not_sent == nil then tag(e.stars .. " stars, " .. e.device.os) end
                end)
                on "purchase" (function(e, c)
                  tag(e.currency .. " " .. e.total .. " " .. e.order .. " " .. #e.items .. " " .. e.items[1].sku)
                  if rawequal(e.items, e.items) and rawequal(e.device, nil) then tag("one items table") end
                end)
                """#,
        ])
        let review = Event(
            id: "r-1", type: "review", customerID: "ann", at: at("2026-03-01T10:00:00Z"),
            data: ["has_photo": .bool(true), "stars": .integer(5), "device": .object(["os": .string("ios")])])
        _ = try await fixture.engine.ingest(review)
        var order = purchase("p-1", "ann", "2026-03-02T10:00:00Z", cents: 4999, order: "o-9")
        order.items = [LineItem(sku: "A1", quantity: 1, price: 4999)]
        _ = try await fixture.engine.ingest(order)
        let tags = try #require(try await fixture.engine.customer("ann")).tags
        #expect(tags == ["r-1 review ann 2026-03-01T10:00:00Z nil nil", "5 stars, ios", "EUR 4999 o-9 1 A1", "one items table"])
    }

    @Test("an event kept beyond the call it was passed to cannot be read in a later call")
    func keptEventIsGone() async throws {
        let fixture = try EngineFixture([
            "rules/keep.lua": #"""
                local kept
                on "visit" (function(e, c)
                  if kept then tag(kept.type) end
                  kept = e
                end)
                """#,
        ])
        let first = Event(id: "v-1", type: "visit", customerID: "ann", at: at("2026-03-01T10:00:00Z"))
        let second = Event(id: "v-2", type: "visit", customerID: "ann", at: at("2026-03-02T10:00:00Z"))
        #expect(try await fixture.engine.ingest(first).status == .applied)
        guard case .rejected(let reason) = try await fixture.engine.ingest(second).status else {
            Issue.record("expected a rejection")
            return
        }
        #expect(
            reason == "rules/keep.lua:3: in on visit (rules/keep.lua:2): this event is no longer available: it was kept "
                + "beyond the call it was passed to")
    }
}
