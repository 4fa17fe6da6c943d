import Foundation
import Testing

@testable import Orbit

/// A customer shares its fields between copies until one changes (copy on write): every copy must still behave as
/// a value of its own.
@Suite("Customer as a value")
struct CustomerValueTests {
    private static func anna() -> Customer {
        var anna = Customer(id: "anna", signedUpAt: Instant(millisecondsSinceEpoch: 0))
        anna.tags = ["vip"]
        anna.orders = [
            OrderSummary(orderID: "o-1", at: Instant(millisecondsSinceEpoch: 1_000), total: Money(minorUnits: 4999, currency: .eur))
        ]
        anna.wallet.add(PointsBatch(entryID: "e-1#0", remaining: 49, expiresAt: nil))
        return anna
    }

    @Test("changing any one field of a copy leaves the original as it was")
    func everyFieldIsCopiedOnWrite() {
        let later = Instant(millisecondsSinceEpoch: 5_000)
        let changes: [(String, (inout Customer) -> Void)] = [
            ("id", { $0.id = "ben" }),
            ("signedUpAt", { $0.signedUpAt = later }),
            ("attributes", { $0.attributes["city"] = .string("Lyon") }),
            ("tags", { $0.tags.insert("winback") }),
            ("consent", { $0.consent[.sms] = true }),
            ("referralCode", { $0.referralCode = "ANNA-1" }),
            ("referrer", { $0.referrer = "carla" }),
            ("tier", { $0.tier = "gold" }),
            ("lastEventAt", { $0.lastEventAt = later }),
            ("orders", { $0.orders.removeAll() }),
            ("wallet", { $0.wallet.add(PointsBatch(entryID: "e-2#0", remaining: 1, expiresAt: nil)) }),
            ("pointsEarned", { $0.pointsEarned += 1 }),
            ("inactiveLapsesFired", { $0.inactiveLapsesFired[30] = later }),
            ("pendingReferralRewards", {
                $0.pendingReferralRewards.append(
                    PendingReferralReward(orderID: "o-9", refereeID: "ben", dueAt: later, points: 1, expiresAfterDays: nil))
            }),
            ("isForgotten", { $0.isForgotten = true }),
            ("prediction", {
                $0.prediction = CustomerPrediction(
                    pAlive: 0.5, expectedPurchases: 1, expectedOrderValue: nil, predictedCLV: nil)
            }),
        ]
        for (field, change) in changes {
            let original = Self.anna()
            var copy = original
            change(&copy)
            #expect(copy != original, "changing \(field) changes the copy")
            #expect(original == Self.anna(), "changing \(field) of a copy leaves the original")
        }
    }

    @Test("changing a copy, field by field and in place, leaves the original as it was")
    func copiesAreIndependent() {
        let original = Self.anna()
        var copy = original
        #expect(copy == original)
        copy.tags.insert("winback")
        copy.orders[0].total = .zero(.eur)
        _ = copy.wallet.spend(49)
        copy.inactiveLapsesFired[90] = Instant(millisecondsSinceEpoch: 1_000)
        copy.tier = "gold"
        #expect(original.tags == ["vip"])
        #expect(original.orders[0].total.minorUnits == 4999)
        #expect(original.pointsBalance == 49)
        #expect(original.inactiveLapsesFired.isEmpty)
        #expect(original.tier == nil)
        #expect(copy != original)
        #expect(copy.pointsBalance == 0)
    }

    @Test("equal customers hash alike, whether or not they share their fields")
    func equalityAndHashing() {
        let shared = Self.anna()
        let copy = shared
        let separate = Self.anna()
        #expect(Set([shared, copy, separate]).count == 1)
        var changed = separate
        changed.pointsEarned = 1
        #expect(Set([shared, changed]).count == 2)
    }

    @Test("reads back from JSON what it wrote")
    func codableRoundTrip() throws {
        var anna = Self.anna()
        anna.consent[.email] = true
        anna.attributes["city"] = .string("Berlin")
        let decoded = try JSONDecoder().decode(Customer.self, from: try JSONEncoder().encode(anna))
        #expect(decoded == anna)
    }
}
