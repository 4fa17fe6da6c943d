import Foundation
import Orbit
import Testing

@testable import OrbitSQLite

@Suite("CustomerJSON")
struct CustomerJSONTests {
    /// The text `CustomerJSON` writes for `customer`.
    private func encoded(_ customer: Customer, _ encoder: StreamingJSONEncoder) throws -> String {
        var bytes: [UInt8] = []
        try CustomerJSON.append(customer, to: &bytes, attributes: encoder)
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test("writes exactly the bytes the Codable conformance writes, for every field and tricky text")
    func matchesCodable() throws {
        var customer = Customer(id: "tricky \"one\"\n", signedUpAt: instant())
        customer.attributes = ["quote\"key": .string("a\\b"), "n": .array([.integer(-7), .number(2.5), .null])]
        customer.tags = ["a\"b", "ü", "plain"]
        customer.consent = [.email: true, .push: false, .whatsapp: true]
        customer.referralCode = "R\t1"
        customer.referrer = "someone"
        customer.tier = "gold"
        customer.lastEventAt = instant(days: 400, minutes: 7)
        customer.orders = [
            try order("o\"1", at: instant(minutes: 1), cents: -5), try order("o-2", at: instant(days: 3), cents: .max),
        ]
        customer.wallet.add(try batch("e-1#0", remaining: 500, expiresAt: instant(days: 366)))
        customer.wallet.add(try batch("e-2#0", remaining: .min, expiresAt: nil))
        customer.pointsEarned = 1_234
        customer.inactiveLapsesFired = [30: instant(days: 9), 90: Instant(millisecondsSinceEpoch: 1_234)]
        customer.isForgotten = true
        customer.pendingReferralRewards = [
            PendingReferralReward(orderID: "o\"9", refereeID: "ben", dueAt: instant(days: 14), points: 500, expiresAfterDays: nil)
        ]
        customer.prediction = CustomerPrediction(
            pAlive: 0.25, expectedPurchases: 1.5, expectedOrderValue: Money(minorUnits: 4_200, currency: .eur),
            predictedCLV: nil)
        let plain = Customer(id: "c", signedUpAt: Instant(millisecondsSinceEpoch: -86_400_000 * 60_000))

        for value in [customer, plain] {
            let encoder = StreamingJSONEncoder()
            let written = try encoded(value, encoder)
            #expect(written == (try encoder.encode(value)))
            #expect(try JSONDecoder().decode(Customer.self, from: Data(written.utf8)) == value)
        }
    }

    @Test(
        "a string is written as a JSON literal that reads back as itself, escaped only where JSON requires",
        arguments: [
            ("plain", #""plain""#), ("", #""""#), ("say \"hi\"", #""say \"hi\"""#), (#"a\b"#, #""a\\b""#),
            ("line\nbreak\r\ttab", #""line\nbreak\r\ttab""#), ("\u{01}\u{1F}", #""\u0001\u001f""#),
            ("ü 😀 \u{7F}", "\"ü 😀 \u{7F}\""),
        ])
    func stringLiteral(text: String, literal: String) throws {
        var bytes: [UInt8] = []
        JSONByteWriter.appendString(text, to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == literal)
        #expect(try JSONDecoder().decode(String.self, from: Data(bytes)) == text)
    }

    @Test("sets and dictionaries are written in order: the same customer is always the same text")
    func deterministic() throws {
        var customer = Customer(id: "c", signedUpAt: instant())
        let names = (0..<20).map { String(format: "k%02d", $0) }
        customer.tags = Set(names.shuffled())
        customer.attributes = Dictionary(uniqueKeysWithValues: names.shuffled().map { ($0, JSONValue.integer(1)) })
        customer.consent = [.whatsapp: true, .email: false, .sms: true, .push: false]
        customer.inactiveLapsesFired = [90: instant(days: 9), 30: instant(days: 3), 180: instant(days: 18)]
        let encoder = StreamingJSONEncoder()
        let written = try encoded(customer, encoder)
        #expect(written == (try encoder.encode(customer)))
        let tags = names.map { "\"\($0)\"" }.joined(separator: ",")
        let attributes = names.map { "\"\($0)\":1" }.joined(separator: ",")
        #expect(written.contains(#""tags":[\#(tags)]"#))
        #expect(written.contains(#""attributes":{\#(attributes)}"#))
        #expect(written.contains(#""consent":{"email":false,"push":false,"sms":true,"whatsapp":true}"#))
        #expect(written.contains(#""inactiveLapsesFired":{"180":"#))
    }
}
