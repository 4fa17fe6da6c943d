import Foundation
import Logging
import LuaRuntime
import Testing

@testable import Orbit

/// `editor/orbit.lua` and `editor/orbit-test.lua` must describe exactly what the runtime offers.
@Suite("Editor annotations")
struct EditorAnnotationTests {
    static let editor = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("editor")
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    private func annotations(_ name: String) throws -> String {
        try String(contentsOf: Self.editor.appendingPathComponent(name), encoding: .utf8)
    }

    /// Names declared with `function PREFIXname(` at the start of a line.
    private func functions(in text: String, prefix: String) -> Set<String> {
        var names = Set<String>()
        for line in text.split(separator: "\n") where line.hasPrefix("function " + prefix) {
            let rest = line.dropFirst(("function " + prefix).count)
            let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            if rest.dropFirst(name.count).hasPrefix("(") { names.insert(String(name)) }
        }
        return names
    }

    @Test("every global of the rule API is annotated, and nothing else")
    func globals() throws {
        let vocabulary = try RuleVocabulary(logger: logger)
        let annotated = functions(in: try annotations("orbit.lua"), prefix: "")
        #expect(annotated == Set(vocabulary.apiNames))
    }

    /// The fields of `---@class orbit.NAME`, with those of the class it extends.
    private func fields(ofClass name: String, in lines: [Substring]) -> [String] {
        guard let start = lines.firstIndex(where: { $0 == "---@class orbit.\(name)" || $0.hasPrefix("---@class orbit.\(name):") })
        else { return [] }
        let own = lines[(start + 1)...].prefix { $0.hasPrefix("---@field ") }
            .map { String($0.dropFirst("---@field ".count).prefix { $0 != " " && $0 != "?" }) }
        let parent = lines[start].split(separator: ":").dropFirst().first.map { $0.trimmingCharacters(in: .whitespaces) }
        return own + (parent.map { fields(ofClass: String($0.dropFirst("orbit.".count)), in: lines) } ?? [])
    }

    @Test("every field the annotations give a rule's table is one the rule language takes, and the other way round")
    func specFields() throws {
        let lines = try annotations("orbit.lua").split(separator: "\n", omittingEmptySubsequences: false)
        let forms = [
            ("SegmentSpec", #"segment "s" { %@ = true }"#),
            ("TierSpec", #"tiers { { %@ = true } }"#),
            ("HandlerOptions", #"on "inactive" { %@ = true } (function(c) end)"#),
            ("EarnSpec", #"earn "e" { %@ = true }"#),
            ("PointsPer", #"earn "e" { on = "purchase", points = { %@ = true } }"#),
        ]
        for (name, form) in forms {
            let fields = fields(ofClass: name, in: lines)
            #expect(fields.count >= 2, "orbit.\(name) has its fields")
            for field in fields {
                let source = form.replacingOccurrences(of: "%@", with: field)
                var message = ""
                do {
                    _ = try RuleBook(sources: [("x.lua", source)], logger: logger)
                } catch {
                    message = "\(error)"
                }
                #expect(!message.contains("unknown field '\(field)'"), "orbit.\(name).\(field): \(message)")
            }
            // An unknown field with no close name makes the error list the fields the form takes.
            let typo = form.replacingOccurrences(of: "%@", with: "nonsense")
            var refusal = ""
            do {
                _ = try RuleBook(sources: [("x.lua", typo)], logger: logger)
            } catch {
                refusal = "\(error)"
            }
            let listed = refusal.components(separatedBy: "(fields: ").dropFirst().first?.prefix { $0 != ")" }
            let taken = listed.map { $0.components(separatedBy: ", ") } ?? []
            #expect(!taken.isEmpty, "the form itself refuses unknown fields and lists its own: \(refusal)")
            #expect(Set(taken).subtracting(fields).isEmpty, "orbit.\(name) lacks \(Set(taken).subtracting(fields).sorted())")
        }
    }

    @Test("orbit.Customer has exactly the fields and methods of the customer view")
    func customer() throws {
        let text = try annotations("orbit.lua")
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(where: { $0.hasPrefix("---@class orbit.Customer") }) else {
            Issue.record("no ---@class orbit.Customer")
            return
        }
        let fields = lines[(start + 1)...].prefix { $0.hasPrefix("---@field ") }
            .map { String($0.dropFirst("---@field ".count).prefix { $0 != " " }) }
        let methods = functions(in: text, prefix: "Customer:")
        let vocabulary = try RuleVocabulary(logger: logger)
        #expect(Set(fields).union(methods) == Set(vocabulary.customerMembers))
        #expect(Set(fields).isDisjoint(with: methods))
    }

    @Test("orbit.Cart has exactly the fields and methods of the cart view")
    func cart() throws {
        let text = try annotations("orbit.lua")
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex { $0.hasPrefix("---@class orbit.Cart") && !$0.hasPrefix("---@class orbit.CartLine") })
        let fields = lines[(start + 1)...].prefix { $0.hasPrefix("---@field ") }
            .map { String($0.dropFirst("---@field ".count).prefix { $0 != " " }) }
        let methods = functions(in: text, prefix: "Cart:")
        #expect(Set(fields).union(methods) == Set(CartView.luaType().memberNames))
    }

    @Test("the expect.* functions of the test annotations are the runner's expectations")
    func expectations() throws {
        let annotated = functions(in: try annotations("orbit-test.lua"), prefix: "expect.")
        #expect(annotated == Set(Expectations.table.keys))
        let globals = functions(in: try annotations("orbit-test.lua"), prefix: "")
        #expect(globals == ["test", "at", "event", "order", "refund", "issued_coupon"])
    }
}
