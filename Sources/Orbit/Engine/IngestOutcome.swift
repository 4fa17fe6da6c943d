/// What happened to one event.
public struct IngestOutcome: Hashable, Sendable {
    public enum Status: Hashable, Sendable {
        /// Applied, with all its effects.
        case applied
        /// Applied before (same id): counted, not applied again.
        case duplicate
        /// Not applied; nothing of it was. The reason says what, where and why.
        case rejected(reason: String)
    }

    public var eventID: String
    public var status: Status
    /// Effects applied (for `.applied`), in order, per rule; lapses the event's time triggered are reported by
    /// ``Engine/advance(to:)``-style outcomes of their own.
    public var effects: [AppliedEffect]
}

/// An event the engine refuses, with the reason.
struct EventRejection: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
