import Foundation
public import Logging

/// The engine behind `orbit repl`: Lua typed at a prompt runs in the rule book's sandbox (with `eur`, the forms and
/// the customer view), and dot commands inspect rules against the store's customers. It never writes to the store:
/// `.simulate` runs on a copy. No input ends it; every error becomes a line of output.
///
/// Line editing, history and the terminal belong to the caller; ``completions(for:)`` feeds its tab completion.
///
/// ```swift
/// let console = try await RuleConsole(rules: "rules", store: store, now: clock.now(), logger: logger)
/// let reply = await console.handle("c = customer(\"anna\")")
/// ```
public final class RuleConsole {
    /// What one line of input produced.
    public struct Reply: Sendable, Equatable {
        /// Text to show, without a trailing newline; empty when there is nothing to show.
        public var output: String
        /// The statement is incomplete: read another line (show ``RuleConsole/prompt``).
        public var needsMore: Bool
    }

    let store: any Store
    let logger: Logger
    /// The rule file or directory `.reload` reads again; nil when the session started without rules.
    var rulesPath: String?
    var sources: RuleSources
    private(set) var session: ConsoleSession
    /// The store's customers as the session started (the console never changes them).
    var customers: [String: Customer]
    /// The instant rules are evaluated at (`.at` moves it).
    var now: Instant
    private var pending: [String] = []
    /// Set by `.quit`: the caller stops reading.
    public internal(set) var isFinished = false
    /// What to say when the session starts: a rule file that failed to load, or nothing.
    public private(set) var greeting = ""

    /// Loads the rules at `rules` (a directory or one file; none for an empty rule book) over `store`.
    public init(rules: String?, store: any Store, now: Instant, logger: Logger) async throws {
        self.store = store
        self.logger = logger
        self.now = now
        rulesPath = rules
        do {
            sources = try rules.map { path throws(RuleError) in try RuleSources(path: path) } ?? RuleSources(files: [])
            session = try ConsoleSession(book: sources.book(logger: logger), logger: logger)
        } catch {
            // A broken rule file must not keep the marketer out: start empty, fix, `.reload`.
            greeting = "error: \(error)\nstarted without rules; fix the file and .reload"
            sources = RuleSources(files: [])
            session = try ConsoleSession(book: sources.book(logger: logger), logger: logger)
        }
        customers = Dictionary(uniqueKeysWithValues: try await store.allCustomers().map { ($0.id, $0) })
        try prepare(session)
    }

    /// Gives a session the console's globals: `customer(id)`.
    private func prepare(_ session: ConsoleSession) throws {
        try session.installCustomerFunction { [unowned self] id in (try customer(id), now) }
    }

    /// The prompt for the next line: a continuation prompt while a statement is incomplete.
    public var prompt: String { pending.isEmpty ? "orbit> " : "...> " }

    /// Runs one line: a dot command, or Lua (an expression's value is shown).
    public func handle(_ line: String) async -> Reply {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix(".") {
            let discarded = pending.isEmpty ? "" : "(unfinished statement discarded)\n"
            pending = []
            return Reply(output: discarded + (await command(trimmed)), needsMore: false)
        }
        if pending.isEmpty && trimmed.isEmpty { return Reply(output: "", needsMore: false) }
        pending.append(line)
        switch session.evaluate(pending.joined(separator: "\n")) {
        case .incomplete:
            return Reply(output: "", needsMore: true)
        case .done(let output):
            pending = []
            return Reply(output: output, needsMore: false)
        }
    }

    private func command(_ line: String) async -> String {
        let name = String(line.dropFirst().prefix { !$0.isWhitespace })
        let argument = line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces)
        guard let command = Self.commands.first(where: { $0.name == name }) else {
            let names = Self.commands.map(\.name)
            return "error: unknown command '.\(name)'\(Suggestion.didYouMean(name, among: names)); .help lists them"
        }
        do {
            return try await command.run(self, argument)
        } catch {
            return "error: \(error)"
        }
    }

    /// Replaces the rules with those at `path` (the current ones when nil) and reads the store's customers again. A
    /// file that fails to load keeps the old rules; the store is never written. Session variables start afresh with
    /// the new rule book.
    func reload(from path: String?) async throws -> String {
        guard let path = path ?? rulesPath else { throw ConsoleError("no rules to reload: .load FILE|DIR first") }
        let newSources: RuleSources
        let newSession: ConsoleSession
        do {
            newSources = try RuleSources(path: path)
            newSession = try ConsoleSession(book: newSources.book(logger: logger), logger: logger)
            try prepare(newSession)
        } catch {
            throw ConsoleError("\(error)\nkept the rules loaded before")
        }
        sources = newSources
        session = newSession
        rulesPath = path
        customers = Dictionary(uniqueKeysWithValues: try await store.allCustomers().map { ($0.id, $0) })
        let book = session.book
        return "loaded \(book.files.count) file(s): \(book.segmentNames.count) segment(s), \(book.earnRuleNames.count) "
            + "earning rule(s), \(book.tierNames.count) tier(s), \(book.handlerNames.count) handler(s), "
            + "\(book.checkout.offers.count) offer(s)"
    }

    /// The customer with `id`, or an error naming the closest known id.
    func customer(_ id: String) throws -> Customer {
        guard !id.isEmpty else { throw ConsoleError("a customer id is needed") }
        guard let customer = customers[id] else {
            throw ConsoleError(
                "no customer '\(id)' in the store"
                    + Suggestion.didYouMean(id, among: Array(customers.keys.prefix(10_000)))
            )
        }
        return customer
    }

    // MARK: Completion

    /// Candidates completing the word that ends `line`: dot commands at the start, API and Lua names, rule names
    /// (inside quotes), customer fields and methods after `.` or `:`, customer ids after `.customer`/`.explain`.
    public func completions(for line: String) -> [String] {
        let word = String(line.reversed().prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }.reversed())
        let before = line.dropLast(word.count)
        let candidates: [String]
        if before.isEmpty && word.isEmpty {
            return []
        } else if before == "." {
            candidates = Self.commandNames
        } else if before.hasPrefix(".") {
            candidates = Array(customers.keys) + session.book.ruleNames
        } else if before.hasSuffix(".") || before.hasSuffix(":") {
            candidates = session.vocabulary.customerMembers
        } else if before.hasSuffix("\"") || before.hasSuffix("'") {
            candidates = session.book.ruleNames + Array(customers.keys)
        } else {
            candidates = session.vocabulary.apiNames + session.vocabulary.sandboxNames + session.globalNames
        }
        return Set(candidates.filter { $0.hasPrefix(word) }).sorted()
    }
}

/// A console command failed: said to the marketer, and the session goes on.
struct ConsoleError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
