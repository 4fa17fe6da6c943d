import Orbit

/// Writes a ``Customer`` as exactly the JSON its `Codable` conformance produces through `StreamingJSONEncoder` (same
/// keys, same order, optionals left out when nil), without going through `Encoder`.
///
/// Why: the customer blob is written for every customer a replay batch touches, and its orders and points batches
/// grow with the customer's history. Through `Encoder`, each order costs several containers, existential boxes and
/// a string per key; here it is a few appends to one byte buffer. The read path still decodes with `JSONDecoder`,
/// and a test checks byte equality with the `Codable` output, so the two cannot drift apart unnoticed.
/// Attribute values (arbitrary JSON, rarely present in bulk) still go through `StreamingJSONEncoder`.
enum CustomerJSON {
    /// Appends the customer's compact JSON text to `out`.
    ///
    /// - Throws: what `StreamingJSONEncoder` throws for an attribute it cannot encode (a non-finite number).
    static func append(_ customer: Customer, to out: inout [UInt8], attributes encoder: StreamingJSONEncoder) throws {
        out.append(contentsOf: #"{"id":"#.utf8)
        JSONByteWriter.appendString(customer.id, to: &out)
        out.append(contentsOf: #","signedUpAt":"#.utf8)
        append(customer.signedUpAt, to: &out)
        out.append(contentsOf: #","attributes":"#.utf8)
        if customer.attributes.isEmpty {
            out.append(contentsOf: "{}".utf8)
        } else {
            out.append(contentsOf: try encoder.encode(JSONValue.object(customer.attributes)).utf8)
        }
        out.append(contentsOf: #","tags":["#.utf8)
        // Sets and dictionaries in order, as `Customer.encode(to:)` writes them.
        for (index, tag) in customer.tags.sorted().enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSONByteWriter.appendString(tag, to: &out)
        }
        out.append(contentsOf: #"],"consent":{"#.utf8)
        for (index, (channel, granted)) in customer.consent.sorted(by: { $0.key.rawValue < $1.key.rawValue }).enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSONByteWriter.appendString(channel.rawValue, to: &out)
            out.append(contentsOf: (granted ? ":true" : ":false").utf8)
        }
        out.append(UInt8(ascii: "}"))
        appendIfPresent("referralCode", customer.referralCode, to: &out)
        appendIfPresent("referrer", customer.referrer, to: &out)
        appendIfPresent("tier", customer.tier, to: &out)
        out.append(contentsOf: #","lastEventAt":"#.utf8)
        append(customer.lastEventAt, to: &out)
        out.append(contentsOf: #","orders":["#.utf8)
        for (index, order) in customer.orders.enumerated() {
            out.append(contentsOf: (index > 0 ? #",{"orderID":"# : #"{"orderID":"#).utf8)
            JSONByteWriter.appendString(order.orderID, to: &out)
            out.append(contentsOf: #","at":"#.utf8)
            append(order.at, to: &out)
            out.append(contentsOf: #","total":{"minorUnits":"#.utf8)
            append(order.total.minorUnits, to: &out)
            out.append(contentsOf: #","currency":"#.utf8)
            JSONByteWriter.appendString(order.total.currency.code, to: &out)
            out.append(contentsOf: "}}".utf8)
        }
        out.append(contentsOf: #"],"wallet":{"batches":["#.utf8)
        for (index, batch) in customer.wallet.batches.enumerated() {
            out.append(contentsOf: (index > 0 ? #",{"entryID":"# : #"{"entryID":"#).utf8)
            JSONByteWriter.appendString(batch.entryID, to: &out)
            out.append(contentsOf: #","remaining":"#.utf8)
            append(batch.remaining, to: &out)
            if let expiresAt = batch.expiresAt {
                out.append(contentsOf: #","expiresAt":"#.utf8)
                append(expiresAt, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
        out.append(contentsOf: #"]},"pointsEarned":"#.utf8)
        append(customer.pointsEarned, to: &out)
        out.append(contentsOf: #","inactiveLapsesFired":{"#.utf8)
        for (index, (days, instant)) in customer.inactiveLapsesFired.sorted(by: { String($0.key) < String($1.key) })
            .enumerated()
        {
            out.append(contentsOf: (index > 0 ? #",""# : #"""#).utf8)
            out.append(contentsOf: String(days).utf8)
            out.append(contentsOf: #"":"#.utf8)
            append(instant, to: &out)
        }
        // Rare (referrers with pending rewards, fitted customers): through the encoder, like attributes.
        out.append(contentsOf: #"},"pendingReferralRewards":"#.utf8)
        if customer.pendingReferralRewards.isEmpty {
            out.append(contentsOf: "[]".utf8)
        } else {
            out.append(contentsOf: try encoder.encode(customer.pendingReferralRewards).utf8)
        }
        out.append(contentsOf: #","isForgotten":"#.utf8)
        out.append(contentsOf: (customer.isForgotten ? "true" : "false").utf8)
        if let prediction = customer.prediction {
            out.append(contentsOf: #","prediction":"#.utf8)
            out.append(contentsOf: try encoder.encode(prediction).utf8)
        }
        out.append(UInt8(ascii: "}"))
    }

    private static func appendIfPresent(_ key: String, _ value: String?, to out: inout [UInt8]) {
        guard let value else { return }
        out.append(contentsOf: #",""#.utf8)
        out.append(contentsOf: key.utf8)
        out.append(contentsOf: #"":"#.utf8)
        JSONByteWriter.appendString(value, to: &out)
    }

    /// An instant as its `Codable` form: the ISO 8601 text (only ASCII, nothing to escape).
    private static func append(_ instant: Instant, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        instant.withISO8601UTF8 { out.append(contentsOf: $0) }
        out.append(UInt8(ascii: "\""))
    }

    /// An integer as decimal digits (`String` of a number this short lives inline, without allocating).
    private static func append(_ value: Int64, to out: inout [UInt8]) {
        out.append(contentsOf: String(value).utf8)
    }
}
