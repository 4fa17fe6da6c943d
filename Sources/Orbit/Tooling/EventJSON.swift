import Foundation

/// Events written by hand (a REPL `.simulate`, an `event{ … }` in a rule test): Orbit's NDJSON event object, with
/// `id` and `at` filled in when missing and `currency` defaulting to EUR (what `eur()` counts in).
enum EventJSON {
    static func event(from text: String, defaultID: String, defaultAt: Instant) throws -> Event {
        let parsed: JSONValue
        do {
            parsed = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        } catch {
            throw EventRejection("malformed JSON: \(text)")
        }
        guard case .object(let fields) = parsed else {
            throw EventRejection("an event is a JSON object: {\"type\": …}")
        }
        return try event(from: fields, defaultID: defaultID, defaultAt: defaultAt)
    }

    static func event(from fields: [String: JSONValue], defaultID: String, defaultAt: Instant) throws -> Event {
        var fields = fields
        if fields["id"] == nil { fields["id"] = .string(defaultID) }
        if fields["at"] == nil { fields["at"] = .string(defaultAt.description) }
        if fields["total"] != nil, fields["currency"] == nil { fields["currency"] = .string("EUR") }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var line = try encoder.encode(JSONValue.object(fields))
        do {
            return try line.withUnsafeMutableBytes { raw in
                try NDJSONEventDecoder.decode(line: UnsafeBufferPointer(raw.bindMemory(to: UInt8.self)))
            }
        } catch let problem as InputProblem {
            throw EventRejection(problem.message)
        }
    }
}
