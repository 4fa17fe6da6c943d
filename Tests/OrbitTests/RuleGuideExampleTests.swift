import Foundation
import Logging
import Testing

@testable import Orbit

/// The checkout sections of docs/rules.md: every example passes `orbit check`, and the guide's offer tests pass
/// against them.
@Suite("Rule guide examples")
struct RuleGuideExampleTests {
    static let guide = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/rules.md")
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// The ```lua blocks of the guide as (`docs/rules.md:LINE`, source), in order.
    private func blocks() throws -> [(name: String, source: String)] {
        let lines = try String(contentsOf: Self.guide, encoding: .utf8).split(
            separator: "\n", omittingEmptySubsequences: false)
        var blocks: [(name: String, source: String)] = []
        var start: Int?
        var section = ""
        var body: [Substring] = []
        for (index, line) in lines.enumerated() {
            if line.hasPrefix("## ") { section = String(line) }
            if start == nil, line == "```lua" {
                start = index + 2
                body = []
            } else if let first = start, line == "```" {
                blocks.append(("docs/rules.md:\(first) (\(section))", body.joined(separator: "\n")))
                start = nil
            } else if start != nil {
                body.append(line)
            }
        }
        return blocks
    }

    private static let checkoutSections = [
        "## Offers", "## Discounts", "## Coupons", "## Referrals", "## Paying with points", "## The cart `cart`",
    ]

    @Test("the checkout examples pass orbit check as one rule set, and the guide's offer tests pass against them")
    func checkout() async throws {
        let all = try blocks()
        let rules = all.filter { block in Self.checkoutSections.contains { block.name.hasSuffix("(\($0))") } }
        #expect(rules.count >= 14)
        let diagnostics = try RuleChecker(logger: logger, now: at("2026-10-01T00:00:00Z")).check(rules)
        #expect(diagnostics.isEmpty, "\(diagnostics.map { "\($0.file):\($0.line): \($0.message)" })")
        let tests = try #require(all.first { $0.source.hasPrefix("-- rules/offers_test.lua") })
        let results = await RuleTestRunner(sources: RuleSources(files: rules), logger: logger).run(
            testFile: tests.name, source: tests.source)
        #expect(results.count == 2)
        #expect(results.allSatisfy { $0.passed }, "\(results.flatMap(\.failures))")
    }
}
