/// `.simulate EVENT_JSON`: the event runs through a fresh engine over a copy of its customer in memory, so the
/// host's own checks apply (consent, balances, lapses due before the event) and nothing reaches the real store.
extension RuleConsole {
    func simulate(_ json: String) async throws -> String {
        let event = try EventJSON.event(from: json, defaultID: "simulated", defaultAt: now)
        let before = customers[event.customerID]
        let copy = MemoryStore()
        if let before {
            let segments = try session.book.segments(of: before, at: before.lastEventAt)
            try await copy.apply([
                EventCommit(
                    eventID: "simulation:copy", eventType: "copy", customerID: before.id, at: before.lastEventAt,
                    customer: before, segments: segments)
            ])
        }
        let engine = Engine(
            rules: try sources.book(logger: logger), store: copy, clock: ManualClock(event.at), logger: logger)
        let outcome = try await engine.ingest(event)
        var lines = ["\(event.type) for \"\(event.customerID)\" at \(event.at) (simulated, nothing stored)"]
        switch outcome.status {
        case .rejected(let reason):
            lines.append("  rejected: \(reason)")
            return lines.joined(separator: "\n")
        case .duplicate, .applied: break
        }
        if outcome.effects.isEmpty { lines.append("  no effects") }
        for effect in outcome.effects { lines.append("  \(effect.kind) \(effect.detail)  (\(effect.rule))") }
        guard let after = try await engine.customer(event.customerID) else { return lines.joined(separator: "\n") }
        let book = session.book
        let segmentsBefore = try before.map { try book.segments(of: $0, at: event.at) } ?? []
        let segmentsAfter = try book.segments(of: after, at: event.at)
        lines.append("  points \(before?.pointsBalance ?? 0) → \(after.pointsBalance)")
        if before?.tier != after.tier { lines.append("  tier \(before?.tier ?? "none") → \(after.tier ?? "none")") }
        for name in segmentsAfter.subtracting(segmentsBefore).sorted() { lines.append("  enters segment \"\(name)\"") }
        for name in segmentsBefore.subtracting(segmentsAfter).sorted() { lines.append("  leaves segment \"\(name)\"") }
        for message in await copy.messages(customerID: event.customerID) {
            lines.append(
                "  queues \(message.channel.rawValue) \"\(message.template)\" \(JSONValue.object(message.data))")
        }
        return lines.joined(separator: "\n")
    }
}
