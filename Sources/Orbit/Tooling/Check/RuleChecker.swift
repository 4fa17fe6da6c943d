import Foundation
public import Logging
import LuaRuntime

/// `orbit check`: validates rule files before launch and reports like a compiler. The checks are a list of passes
/// (``passes``); a new area of the language (offers, coupons) adds its own pass to the list.
public struct RuleChecker {
    /// What the passes share: the files, the vocabulary, and the rule book once the files loaded without error.
    struct Context {
        var files: [(name: String, source: String)]
        var vocabulary: RuleVocabulary
        var logger: Logger
        /// The instant windows and coupon expiries are compared with; nil leaves that comparison out.
        var now: Instant?
        /// Loaded by the load pass, when every earlier pass found no error.
        var book: RuleBook?
        /// Files that do not compile: the rule book cannot load.
        var brokenFiles: Set<String> = []

        func source(of file: String) -> String? { files.first { $0.name == file }?.source }

        /// Where `text` (e.g. `"gold"`) first appears in `file` at or after `line`, or the start of `line`.
        func locate(_ text: String, in file: String, from line: Int) -> (line: Int, column: Int) {
            let lines = source(of: file)?.split(separator: "\n", omittingEmptySubsequences: false) ?? []
            for number in max(1, line)...max(1, lines.count) where number <= lines.count {
                if let range = lines[number - 1].range(of: text) {
                    return (
                        number, lines[number - 1].distance(from: lines[number - 1].startIndex, to: range.lowerBound) + 1
                    )
                }
            }
            return (line, Self.firstColumn(of: line, in: lines))
        }

        static func firstColumn(of line: Int, in lines: [Substring]) -> Int {
            guard line >= 1, line <= lines.count else { return 1 }
            return (lines[line - 1].firstIndex { !$0.isWhitespace }).map {
                lines[line - 1].distance(from: lines[line - 1].startIndex, to: $0) + 1
            } ?? 1
        }
    }

    typealias Pass = @Sendable (inout Context) -> [Diagnostic]

    /// The checks, in order. The load pass runs only when every file compiles; later passes that need the rule
    /// book skip when it did not load.
    static let passes: [Pass] = [syntaxPass, namePass, loadPass, tierPass, handlerPass, eventTypePass, offerPass]

    private let logger: Logger
    private let now: Instant?

    /// A checker; with `now`, offer windows and coupons that are over by then are reported too.
    public init(logger: Logger, now: Instant? = nil) {
        self.logger = logger
        self.now = now
    }

    /// The findings for the rules at `path` (a file or a directory), sorted by file, line and column.
    public func check(_ files: [(name: String, source: String)]) throws -> [Diagnostic] {
        var context = Context(
            files: files, vocabulary: try RuleVocabulary(logger: logger), logger: logger, now: now)
        var diagnostics: [Diagnostic] = []
        for pass in Self.passes {
            diagnostics += pass(&context)
        }
        return diagnostics.sorted {
            ($0.file, $0.line, $0.column, $0.message) < ($1.file, $1.line, $1.column, $1.message)
        }
    }

    /// Each file compiles on its own.
    static let syntaxPass: Pass = { context in
        guard let lua = try? LuaState(logger: context.logger) else { return [] }
        var diagnostics: [Diagnostic] = []
        for (file, source) in context.files {
            do {
                _ = try lua.load(source, chunkName: file)
            } catch let error as LuaError {
                context.brokenFiles.insert(file)
                let line = error.line ?? 1
                diagnostics.append(
                    Diagnostic(
                        .error, file: file, line: line, column: column(of: error.message, line: line, in: source),
                        error.message))
            } catch {
                context.brokenFiles.insert(file)
                diagnostics.append(Diagnostic(.error, file: file, line: 1, column: 1, "\(error)"))
            }
        }
        return diagnostics
    }

    /// Unknown globals and customer fields, with a did-you-mean.
    static let namePass: Pass = { context in
        context.files.flatMap { NameCheck.run(file: $0.name, source: $0.source, vocabulary: context.vocabulary) }
    }

    /// The rule book loads: forms well-formed, names unique, tiers in order.
    static let loadPass: Pass = { context in
        guard context.brokenFiles.isEmpty else { return [] }
        do {
            context.book = try RuleBook(sources: context.files, logger: context.logger)
            return []
        } catch let error as RuleError {
            let file = error.underlying.chunk ?? context.files.first?.name ?? "?"
            let line = error.underlying.line ?? 1
            let lines = context.source(of: file)?.split(separator: "\n", omittingEmptySubsequences: false) ?? []
            let message = error.rule.map { "in \($0): \(error.underlying.message)" } ?? error.underlying.message
            return [
                Diagnostic(.error, file: file, line: line, column: Context.firstColumn(of: line, in: lines), message)
            ]
        } catch {
            return [Diagnostic(.error, file: context.files.first?.name ?? "?", line: 1, column: 1, "\(error)")]
        }
    }

    /// A tier nobody can hold: a later tier asks no more of the customer (tiers are listed lowest first and the
    /// highest whose conditions are met wins).
    static let tierPass: Pass = { context in
        guard let tiers = context.book?.tiers else { return [] }
        var diagnostics: [Diagnostic] = []
        for (position, tier) in tiers.enumerated() {
            let askingNoMore = tiers[(position + 1)...].filter { ($0.minimumPoints ?? 0) <= (tier.minimumPoints ?? 0) }
            let (line, column) = context.locate("\"\(tier.name)\"", in: tier.location.file, from: tier.location.line)
            if let later = askingNoMore.first(where: \.asksOnlyPoints) {
                diagnostics.append(
                    Diagnostic(
                        .error, file: tier.location.file, line: line, column: column,
                        "tier '\(tier.name)' can never be reached: '\(later.name)' comes after it and needs no more "
                            + "(min_points \(later.minimumPoints ?? 0))"))
            } else if let later = askingNoMore.first(where: {
                $0.minimumPoints != nil && $0.minimumPoints == tier.minimumPoints
            }) {
                diagnostics.append(
                    Diagnostic(
                        .warning, file: tier.location.file, line: line, column: column,
                        "tiers '\(tier.name)' and '\(later.name)' overlap: same min_points, only the other "
                            + "conditions of '\(later.name)' tell them apart"))
            }
        }
        return diagnostics
    }

    /// A purchase handler whose conditions no purchase can meet: when it runs, the purchase is counted and is the
    /// last order.
    static let handlerPass: Pass = { context in
        guard let book = context.book else { return [] }
        return book.handlers.filter { $0.eventType == "purchase" }.flatMap { handler in
            handler.conditions.bounds.compactMap { bound -> Diagnostic? in
                let reason: String
                switch bound.measure {
                case .orders where (bound.atMost ?? 1) < 1:
                    reason = "orders \(bound.limits): the purchase is counted before handlers run"
                case .daysSinceLastOrder where (bound.atLeast ?? 0) > 0:
                    reason = "days_since_last_order \(bound.limits): the purchase is the last order (0 days); "
                        + "tag customers when they lapse (on \"inactive\") and ask for the tag"
                default: return nil
                }
                let measure = bound.measure.rawValue
                let (line, column) = context.locate(measure, in: handler.location.file, from: handler.location.line)
                return Diagnostic(
                    .error, file: handler.location.file, line: line, column: column,
                    "\(handler.name) can never run: \(reason)")
            }
        }
    }

    /// An event type that is almost a known one (`purchse`) is probably a typo; custom types are fine otherwise.
    static let eventTypePass: Pass = { context in
        guard let book = context.book else { return [] }
        let known = RuleVocabulary.knownEventTypes
        let uses =
            book.earnRules.map { ($0.eventType, $0.location) } + book.handlers.map { ($0.eventType, $0.location) }
        return uses.compactMap { type, location in
            guard !known.contains(type) else { return nil }
            let hint = Suggestion.didYouMean(type, among: known)
            guard !hint.isEmpty else { return nil }
            let (line, column) = context.locate("\"\(type)\"", in: location.file, from: location.line)
            return Diagnostic(
                .warning, file: location.file, line: line, column: column,
                "unknown event type '\(type)'\(hint); custom types are fine when the shop sends them")
        }
    }

    /// The column of Lua's `near 'x'` token on `line`, or of the line's first character.
    private static func column(of message: String, line: Int, in source: String) -> Int {
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        if let near = message.range(of: "near '"), line >= 1, line <= lines.count {
            let token = message[near.upperBound...].prefix { $0 != "'" }
            if let range = lines[line - 1].range(of: token) {
                return lines[line - 1].distance(from: lines[line - 1].startIndex, to: range.lowerBound) + 1
            }
        }
        if message.hasSuffix("near <eof>"), line >= 1, line <= lines.count { return lines[line - 1].count + 1 }
        return Context.firstColumn(of: line, in: lines)
    }
}
