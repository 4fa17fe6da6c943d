import Foundation

/// A dot command of the REPL. Commands live in tables (``RuleConsole/commands``); a new area of the language adds
/// its own table there (checkout adds `.quote`).
struct ConsoleCommand: Sendable {
    var name: String
    /// How the argument is written in `.help` (`NAME`, `EVENT_JSON`), empty when there is none.
    var arguments: String
    var summary: String
    var run: @Sendable (RuleConsole, String) async throws -> String
}

extension RuleConsole {
    /// Every dot command, in `.help` order.
    static let commands: [ConsoleCommand] = sessionCommands + customerCommands + checkoutCommands

    /// Names of the dot commands (without the dot).
    public static var commandNames: [String] { commands.map(\.name) }

    static let sessionCommands: [ConsoleCommand] = [
        ConsoleCommand(name: "help", arguments: "", summary: "this list") { _, _ in help() },
        ConsoleCommand(name: "quit", arguments: "", summary: "end the session (as Ctrl-D does)") { console, _ in
            console.isFinished = true
            return ""
        },
        ConsoleCommand(
            name: "load", arguments: "FILE|DIR",
            summary: "load rules from a file or directory (a broken file keeps the rules loaded before)"
        ) { console, path in
            guard !path.isEmpty else { throw ConsoleError("usage: .load FILE|DIR") }
            return try await console.reload(from: path)
        },
        ConsoleCommand(name: "reload", arguments: "", summary: "read the rule files and the store's customers again") {
            console, _ in try await console.reload(from: nil)
        },
        ConsoleCommand(
            name: "rules", arguments: "", summary: "the rules loaded: segments, earning rules, tiers, handlers, offers"
        ) {
            console, _ in console.ruleListing()
        },
        ConsoleCommand(name: "at", arguments: "[INSTANT]", summary: "show or set the instant rules are evaluated at") {
            console, argument in
            if !argument.isEmpty {
                guard let instant = Instant(iso8601: argument) else {
                    throw ConsoleError(
                        "not an ISO 8601 instant with a zone: '\(argument)' (e.g. 2026-11-27T09:00:00+01:00)")
                }
                console.now = instant
            }
            return "now: \(console.now)"
        },
    ]

    static let customerCommands: [ConsoleCommand] = [
        ConsoleCommand(name: "customer", arguments: "ID", summary: "what rules see of a customer; binds it to c") {
            console, id in try console.describeCustomer(id)
        },
        ConsoleCommand(
            name: "segment", arguments: "NAME", summary: "how many customers are in a segment, and the first"
        ) {
            console, name in try console.segmentListing(name)
        },
        ConsoleCommand(
            name: "explain", arguments: "CUSTOMER NAME",
            summary: "why a customer is or is not in a segment, tier or offer, or a handler (file:line) runs for them"
        ) { console, argument in
            let parts = argument.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ConsoleError("usage: .explain CUSTOMER NAME") }
            return try await console.explain(
                customer: parts[0], subject: parts[1].trimmingCharacters(in: .whitespaces))
        },
        ConsoleCommand(
            name: "simulate", arguments: "EVENT_JSON",
            summary: "the effects an event would have; nothing is stored (id and at default to a new id and now)"
        ) { console, json in
            guard !json.isEmpty else {
                throw ConsoleError("usage: .simulate {\"type\": \"purchase\", \"customer\": \"anna\", \"total\": 4999}")
            }
            return try await console.simulate(json)
        },
    ]

    static func help() -> String {
        var lines = ["Lua runs in the rule sandbox: eur(49.99), customer(\"anna\"):spent{ days = 365 }, x = 1 (kept)."]
        for command in commands {
            let usage = "." + command.name + (command.arguments.isEmpty ? "" : " " + command.arguments)
            lines.append(usage.padding(toLength: 28, withPad: " ", startingAt: 0) + command.summary)
        }
        return lines.joined(separator: "\n")
    }

    func ruleListing() -> String {
        let book = session.book
        var lines: [String] = []
        for segment in book.segments {
            lines.append(
                "segment \"\(segment.name)\"  \(segment.location)" + (segment.description.map { "  \($0)" } ?? ""))
        }
        for rule in book.earnRules { lines.append("earn \"\(rule.name)\" on \(rule.eventType)  \(rule.location)") }
        for tier in book.tiers { lines.append("tier \"\(tier.name)\"  \(tier.location)") }
        for handler in book.handlers {
            lines.append(handler.name + (handler.conditions.isEmpty ? "" : "  for " + handler.conditions.summary))
        }
        for offer in book.checkout.offers { lines.append("offer \"\(offer.name)\"  \(offer.location)") }
        return lines.isEmpty ? "no rules loaded" : lines.joined(separator: "\n")
    }

    func describeCustomer(_ id: String) throws -> String {
        let customer = try customer(id)
        try session.bind("c", to: customer, at: now)
        let segments = try session.book.segments(of: customer, at: now).sorted()
        return "customer \"\(customer.id)\" at \(now) (now bound to c)\n" + (try session.fields(of: customer, at: now))
            + "\n  segments               " + (segments.isEmpty ? "none" : segments.joined(separator: ", "))
    }

    func segmentListing(_ name: String) throws -> String {
        let book = session.book
        guard book.segmentNames.contains(name) else {
            throw ConsoleError("unknown segment '\(name)'\(Suggestion.didYouMean(name, among: book.segmentNames))")
        }
        var members: [String] = []
        for customer in customers.values.sorted(by: { $0.id < $1.id })
        where try book.segments(of: customer, at: now).contains(name) {
            members.append(customer.id)
        }
        let shown = members.prefix(20).joined(separator: ", ")
        let more = members.count > 20 ? ", … (\(members.count - 20) more)" : ""
        return "segment \"\(name)\": \(members.count) of \(customers.count) customer(s) at \(now)"
            + (members.isEmpty ? "" : "\n  \(shown)\(more)")
    }
}
