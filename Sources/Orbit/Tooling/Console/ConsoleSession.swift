import Foundation
import Logging
import LuaRuntime

/// One rule book as the console uses it: the session's globals, the REPL's Lua, and a recording customer type for
/// explanations. Replaced whole on `.reload`.
final class ConsoleSession {
    enum Evaluation {
        case incomplete
        case done(String)
    }

    /// Every field read and method call of a recording customer view, in order.
    final class Recorder {
        var observations: [(member: String, arguments: [LuaValue]?, result: LuaValue)] = []
    }

    let book: RuleBook
    let vocabulary: RuleVocabulary
    private let environment: LuaReference
    private let run: LuaFunction
    private let describe: LuaFunction
    let recorder = Recorder()
    /// `c` as explanations see it: the customer view, reporting what the rule read to ``recorder``.
    let recordingType: LuaObjectType<CustomerView>

    init(book: RuleBook, logger: Logger) throws {
        self.book = book
        vocabulary = try RuleVocabulary(logger: logger)
        let lua = book.lua
        environment = lua.makeEnvironment()
        let functions = try lua.call(lua.load(ConsoleLua.source, chunkName: ConsoleLua.chunkName, internal: true)) {
            _ in
        } results: { results in
            (try results.function(at: 1), try results.function(at: 2))
        }
        (run, describe) = functions
        let recorder = recorder
        recordingType = book.customerType.observed { member, arguments, result in
            recorder.observations.append((member, arguments, result))
        }
        lua.register(recordingType)
    }

    /// Runs Lua the marketer typed: as an expression first (to show its value), then as statements.
    func evaluate(_ source: String) -> Evaluation {
        let lua = book.lua
        let chunk: LuaFunction
        do {
            chunk = try lua.load("return " + source, chunkName: "stdin", environment: environment)
        } catch {
            do {
                chunk = try lua.load(source, chunkName: "stdin", environment: environment)
            } catch {
                if error.kind == .syntax && error.message.hasSuffix("<eof>") { return .incomplete }
                return .done("error: \(error)")
            }
        }
        do {
            return .done(
                try lua.call(run) {
                    $0.push(chunk)
                } results: {
                    try $0.string(at: 1)
                })
        } catch {
            return .done("error: \(error)")
        }
    }

    /// Sets the session global `name` to the customer view of `customer` at `now`.
    func bind(_ name: String, to customer: Customer, at now: Instant) throws {
        let lua = book.lua
        let view = CustomerView(customer: customer, now: now, tier: book.currentTier(of: customer), book: book)
        try lua.call(lua.load("\(name) = ...", chunkName: ConsoleLua.chunkName, environment: environment)) {
            $0.push(view, as: book.customerType)
        } results: { _ in
            ()
        }
    }

    /// Makes `customer(id)` a session global returning that customer's view.
    func installCustomerFunction(_ lookup: @escaping (String) throws -> (Customer, Instant)) throws {
        let lua = book.lua
        let book = book
        try lua.call(lua.load("customer = ...", chunkName: ConsoleLua.chunkName, environment: environment)) {
            $0.push(function: "customer") { stack in
                let (customer, now) = try lookup(try stack.string(at: 1))
                stack.push(
                    CustomerView(customer: customer, now: now, tier: book.currentTier(of: customer), book: book),
                    as: book.customerType)
            }
        } results: { _ in
            ()
        }
    }

    /// The fields of `customer`'s view, one line each, as rules see them.
    func fields(of customer: Customer, at now: Instant) throws -> String {
        let view = CustomerView(customer: customer, now: now, tier: book.currentTier(of: customer), book: book)
        return try book.lua.call(describe) { stack in
            stack.push(view, as: book.customerType)
            stack.push(.array(vocabulary.customerMembers.map(LuaValue.string)))
        } results: {
            try $0.string(at: 1)
        }
    }

    /// Names the session defined (`x = 1`), for completion.
    var globalNames: [String] {
        let lua = book.lua
        guard
            let listing = try? lua.load(
                "local names = {} for name in next, _ENV do names[#names + 1] = name end return names",
                chunkName: ConsoleLua.chunkName, environment: environment),
            case .array(let names)? = try? lua.call(listing).first
        else { return [] }
        return names.compactMap(\.stringValue)
    }
}
