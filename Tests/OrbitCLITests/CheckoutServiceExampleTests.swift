import Foundation
import Testing

/// Runs `examples/checkout-service` as built, on a new SQLite file, and holds its README to what it prints.
@Suite("examples/checkout-service")
struct CheckoutServiceExampleTests {
    @Test("the scripted session prints the totals, the refused stale total, the idempotent retry and the refund")
    func session() throws {
        let directory = try TemporaryDirectory()
        let database = directory.path("shop.sqlite")
        let result = try OrbitBinary.run([database], program: "checkout-service")
        #expect(result.status == 0, "stderr: \(result.errors)")
        let output = result.output
        // The second quote, after two pairs of socks were added: one pair free, the coupon spread over three lines.
        #expect(output.contains("   subtotal 129.75 EUR, discount 33.44 EUR, total 96.31 EUR\n"))
        #expect(output.contains("   pay 400 points (4.00 EUR), due 92.31 EUR, earn 109 points\n"))
        #expect(output.contains("   not applied vip-25 [not_eligible]: not eligible: segment vip (customer is not in it)\n"))
        // The first quote's total is refused; the current one commits; the retry returns the same receipt.
        #expect(output.contains("   refused: price changed from 82.36 EUR to 92.31 EUR;"))
        #expect(output.contains("   order-1001 committed: due 92.31 EUR,"))
        #expect(output.contains("   order-1001 already committed, the first receipt again: due 92.31 EUR,"))
        #expect(output.contains("   balance still 209 points\n"))
        #expect(output.contains("   refused: coupon WELCOME10: coupon WELCOME10 already used by this customer;"))
        // Returning the bottle: its net price, of it the share paid in money, points back in proportion.
        #expect(output.contains("   refunded 18.36 EUR net: 17.59 EUR in money, 76 paid points given back, 20 earned points taken back\n"))
        #expect(output.contains("   the same refund id again: new false, 17.59 EUR as before\n"))
        #expect(output.hasSuffix("  anna: −20 points (refund)\n  anna: +76 points (refund)\n"))
        #expect(FileManager.default.fileExists(atPath: database))
    }

    @Test("the README shows exactly what the program prints")
    func readmeMatchesOutput() throws {
        let readme = try String(
            contentsOf: OrbitBinary.repository.appendingPathComponent("examples/checkout-service/README.md"), encoding: .utf8)
        let command = "```console\n$ swift run --quiet checkout-service 2>/dev/null\n"
        let start = try #require(readme.range(of: command), "the README shows no ```console block of the run")
        let end = try #require(readme.range(of: "```\n", range: start.upperBound..<readme.endIndex))
        let shown = String(readme[start.upperBound..<end.lowerBound])
        let result = try OrbitBinary.run([], program: "checkout-service")
        #expect(result.status == 0, "stderr: \(result.errors)")
        #expect(shown == result.output)
    }

    @Test("an existing database file is refused: the scripted session needs a new one")
    func existingDatabase() throws {
        let directory = try TemporaryDirectory()
        let database = directory.path("shop.sqlite")
        #expect(try OrbitBinary.run([database], program: "checkout-service").status == 0)
        let again = try OrbitBinary.run([database], program: "checkout-service")
        #expect(again.status == 1)
        #expect(again.errors.hasSuffix("checkout-service: \(database) exists already; the scripted session needs a new database file\n"))
    }
}
