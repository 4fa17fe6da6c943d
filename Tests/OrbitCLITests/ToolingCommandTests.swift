import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension OrbitBinary {
    /// Runs the binary with `input` on a pipe as standard input.
    static func run(_ arguments: [String], input: String, environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = executable()
        process.arguments = arguments
        process.currentDirectoryURL = repository
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let stdin = Pipe()
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = stdin
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self),
            errors: String(decoding: errorData, as: UTF8.self))
    }

    static func expected(_ fixture: String) throws -> String {
        try String(
            contentsOf: repository.appendingPathComponent("Tests/OrbitCLITests/Fixtures/\(fixture).expected"),
            encoding: .utf8)
    }
}

@Suite("orbit check and orbit test")
struct CheckAndTestCommandTests {
    @Test("check prints compiler-style diagnostics and exits 1 on errors")
    func checkErrors() throws {
        let result = try OrbitBinary.run(["check", "Tests/OrbitCLITests/Fixtures/check-errors"])
        #expect(result.status == 1)
        #expect(result.output == (try OrbitBinary.expected("check-errors")))
    }

    @Test("check passes the loyalty example")
    func checkExample() throws {
        let result = try OrbitBinary.run(["check", "examples/loyalty/rules"])
        #expect(result.status == 0)
        #expect(result.output == "6 file(s) checked: 0 error(s), 0 warning(s)\n")
    }

    @Test("test shows expected against actual and ends with the counts; exit 1 on a failure")
    func testFailures() throws {
        let result = try OrbitBinary.run(["test", "Tests/OrbitCLITests/Fixtures/test-failures"])
        #expect(result.status == 1)
        #expect(result.output == (try OrbitBinary.expected("test-failures")))
    }

    @Test("check finds offers that are over or can never apply, coupons that cannot be used; --at sets now")
    func checkOffers() throws {
        let result = try OrbitBinary.run(["check", "--at", "2026-12-05T10:00:00Z", "Tests/OrbitCLITests/Fixtures/check-offers"])
        #expect(result.status == 1)
        #expect(result.output == (try OrbitBinary.expected("check-offers")))
    }

    @Test("check passes the offers example before Black Week")
    func checkOffersExample() throws {
        let result = try OrbitBinary.run(["check", "--at", "2026-11-01T00:00:00+01:00", "examples/offers/rules"])
        #expect(result.status == 0)
        #expect(result.output == "6 file(s) checked: 0 error(s), 0 warning(s)\n")
    }

    @Test("expect.quote and order: expected against actual, a refused order, unknown fields")
    func quoteFailures() throws {
        let result = try OrbitBinary.run(["test", "Tests/OrbitCLITests/Fixtures/test-quote-failures"])
        #expect(result.status == 1)
        #expect(result.output == (try OrbitBinary.expected("test-quote-failures")))
    }

    @Test("the offers example's tests pass")
    func testOffersExample() throws {
        let result = try OrbitBinary.run(["test", "examples/offers/rules"])
        #expect(result.status == 0)
        #expect(result.output.hasSuffix("\n8 passed, 0 failed\n"))
    }

    @Test("the loyalty example's tests pass")
    func testExample() throws {
        let result = try OrbitBinary.run(["test", "examples/loyalty/rules"])
        #expect(result.status == 0)
        #expect(result.output.hasSuffix("\n8 passed, 0 failed\n"))
    }
}

@Suite("orbit repl")
struct ReplCommandTests {
    @Test("through a pipe: plain lines, no prompts, errors do not end the session")
    func pipe() throws {
        let input = """
            x = eur(12.5)
            x * 2
            function double(n)
              return n * 2
            end
            double(x)
            error("boom")
            .nope
            .segment vip
            .explain
            print("still", "here")
            .quit
            1 + 1

            """
        let result = try OrbitBinary.run(["repl", "--rules", "examples/loyalty/rules"], input: input)
        #expect(result.status == 0)
        #expect(result.errors == "")
        #expect(
            result.output == """
                2500
                2500
                error: stdin:1: boom
                error: unknown command '.nope'; .help lists them
                segment "vip": 0 of 0 customer(s) at \(result.output.instant)
                error: usage: .explain CUSTOMER NAME
                still\there

                """)
    }

    @Test("with --db: customers from a SQLite file, which the REPL never changes")
    func database() throws {
        let directory = try TemporaryDirectory()
        let db = directory.path("orbit.db")
        let replay = try OrbitBinary.run([
            "replay", "--rules", "examples/loyalty/rules", "--db", db, "examples/loyalty/events/walkthrough.ndjson",
        ])
        #expect(replay.status == 0)
        let before = try OrbitBinary.run(["customer", "export", "ben", "--db", db]).output
        let input = """
            .at 2026-03-02T10:00:00Z
            .explain anna vip
            .simulate {"type": "birthday", "customer": "ben"}

            """
        let result = try OrbitBinary.run(["repl", "--rules", "examples/loyalty/rules", "--db", db], input: input)
        #expect(result.status == 0)
        #expect(
            result.output == """
                now: 2026-03-02T10:00:00Z
                segment "vip" for "anna" at 2026-03-02T10:00:00Z: member
                  examples/loyalty/rules/segments.lua:4  Spent 500 EUR or more in the last year
                  spent in the last 365 days = 115999 (at least 50000: met)
                birthday for "ben" at 2026-03-02T10:00:00Z (simulated, nothing stored)
                  award 250 points  (on birthday (examples/loyalty/rules/birthday.lua:2))
                  points 125 → 375

                """)
        let after = try OrbitBinary.run(["customer", "export", "ben", "--db", db]).output
        #expect(after.exportLines == before.exportLines)
        #expect(before.contains("\"pointsEarned\" : 125"))
    }

    @Test("through a pipe: .quote and .explain of offers, over a SQLite file the REPL never changes")
    func offers() throws {
        let directory = try TemporaryDirectory()
        let db = directory.path("offers.db")
        let replay = try OrbitBinary.run([
            "replay", "--rules", "examples/offers/rules", "--db", db, "examples/offers/events/customers.ndjson",
        ])
        #expect(replay.status == 0)
        let input = """
            .at 2026-11-26T23:30:00+01:00
            .quote {"customer":"cleo","currency":"EUR","lines":[{"sku":"RUN-42","category":"shoes","qty":1,"price":12999}]}
            .at 2026-11-27T00:00:00+01:00
            .explain cleo black-week
            .quote {"customer":"cleo","currency":"EUR","lines":[{"sku":"RUN-42","category":"shoes","qty":1,"price":12999}]}

            """
        let result = try OrbitBinary.run(["repl", "--rules", "examples/offers/rules", "--db", db], input: input)
        #expect(result.status == 0)
        #expect(
            result.output == """
                now: 2026-11-26T22:30:00Z
                Quote for cleo at 2026-11-26T22:30:00Z (EUR)
                  # sku            qty      price      total   discount        net
                  1 RUN-42           1     129.99     129.99      10.00     119.99
                Applied:
                  spend-and-save           -10.00
                Not applied:
                  black-week               outside window 2026-11-27 00:00–2026-11-30 23:59 Europe/Berlin (now 2026-11-26 23:30)
                  gold-5                   not eligible: tier gold or higher (customer is silver)
                  socks-3-for-2            needs 3 items of category socks, the cart has 0
                  win-back                 needs a coupon
                Subtotal 129.99  discount 10.00  total 119.99  due 119.99 EUR  points to earn 119
                (a quote: nothing committed)
                now: 2026-11-26T23:00:00Z
                offer "black-week" for "cleo" at 2026-11-26T23:00:00Z: eligible
                  examples/offers/rules/black-week.lua:2  Black Week: 20 % off shoes
                  window 2026-11-27 00:00–2026-11-30 23:59 Europe/Berlin: now 2026-11-27 00:00 there (met)
                  currency EUR: the cart must be in EUR
                  per_customer 1: used 0 by this customer (met)
                  budget 5000.00 EUR: 0.00 EUR given, 5000.00 EUR left (met)
                  verdict: eligible; the discount and stacking depend on the cart (.quote CART_JSON)
                Quote for cleo at 2026-11-26T23:00:00Z (EUR)
                  # sku            qty      price      total   discount        net
                  1 RUN-42           1     129.99     129.99      25.99     104.00
                Applied:
                  black-week               -25.99
                Not applied:
                  gold-5                   not eligible: tier gold or higher (customer is silver)
                  socks-3-for-2            needs 3 items of category socks, the cart has 0
                  spend-and-save           group seasonal: offer 'black-week' saves more (25.99 EUR vs 10.00 EUR)
                  win-back                 needs a coupon
                Subtotal 129.99  discount 25.99  total 104.00  due 104.00 EUR  points to earn 104
                (a quote: nothing committed)

                """)
    }

    @Test("a broken rule file at start: the session opens without rules and says so")
    func brokenAtStart() throws {
        let directory = try TemporaryDirectory()
        try "segment \"x\" {".write(toFile: directory.path("broken.lua"), atomically: true, encoding: .utf8)
        let result = try OrbitBinary.run(["repl", "--rules", directory.url.path], input: "1 + 1\n")
        #expect(result.status == 0)
        #expect(result.output.hasPrefix("error: \(directory.path("broken.lua")):1:"))
        #expect(result.output.hasSuffix("started without rules; fix the file and .reload\n2\n"))
    }

    #if canImport(Glibc)
        @Test("through a terminal: prompts, Tab completion, multi-line input and a history file")
        func terminal() throws {
            let directory = try TemporaryDirectory()
            let history = directory.path("history")
            let terminal = try PseudoTerminal(
                arguments: ["repl", "--rules", "examples/loyalty/rules"], environment: ["ORBIT_HISTORY": history])
            // Each line is typed once the prompt shows: libedit reads keys only while it has the terminal in raw mode.
            try terminal.read(until: "orbit> ")
            terminal.write("eu\t(3)\r")
            try terminal.read(until: "300")
            try terminal.read(until: "orbit> ")
            terminal.write("function f()\r")
            try terminal.read(until: "...> ")
            terminal.write("return 7 end\r")
            try terminal.read(until: "orbit> ")
            terminal.write("f() * 6\r")
            try terminal.read(until: "42")
            try terminal.read(until: "orbit> ")
            terminal.write("error('x')\r")
            try terminal.read(until: "error: stdin:1: x")
            try terminal.read(until: "orbit> ")
            terminal.write(".segm\t vip\r")
            try terminal.read(until: "segment \"vip\": 0 of 0")
            try terminal.read(until: "orbit> ")
            // `.quit` rather than Ctrl-D: a Ctrl-D that arrives while libedit is still switching the terminal to raw
            // mode is read as a cooked end-of-line and lost; a person never types that fast, a test does.
            terminal.write(".quit\r")
            #expect(try terminal.waitForExit() == 0)
            let saved = try String(contentsOfFile: history, encoding: .utf8)
            // libedit's own format: a header line, then one line per entry (spaces as \\040).
            #expect(saved.contains("eur(3)"))
            #expect(saved.contains(".segment"))
        }
    #endif
}

extension String {
    /// The lines of a JSON export without trailing commas, sorted: the export's content, whatever order it lists the
    /// elements of a set in.
    fileprivate var exportLines: [String] {
        split(separator: "\n").map { $0.hasSuffix(",") ? String($0.dropLast()) : String($0) }.sorted()
    }

    /// The instant in `... at <instant>` of a REPL line (the session's now, from the system clock).
    fileprivate var instant: String {
        guard let range = range(of: "customer(s) at ") else { return "" }
        return String(self[range.upperBound...].prefix { $0 != "\n" })
    }
}

#if canImport(Glibc)
    /// The `orbit` binary on a pseudo-terminal, as a person at a terminal runs it.
    final class PseudoTerminal {
        private let process = Process()
        private let master: FileHandle
        private var transcript = ""

        init(arguments: [String], environment: [String: String]) throws {
            var master: Int32 = 0
            var slave: Int32 = 0
            guard openpty(&master, &slave, nil, nil, nil) == 0 else { throw POSIXError(.ENOTTY) }
            self.master = FileHandle(fileDescriptor: master, closeOnDealloc: true)
            let terminal = FileHandle(fileDescriptor: slave, closeOnDealloc: true)
            process.executableURL = OrbitBinary.executable()
            process.arguments = arguments
            process.currentDirectoryURL = OrbitBinary.repository
            process.environment = ProcessInfo.processInfo.environment.merging(
                environment.merging(["TERM": "xterm"]) { $1 }
            ) { $1 }
            process.standardInput = terminal
            process.standardOutput = terminal
            process.standardError = terminal
            try process.run()
        }

        func write(_ text: String) { master.write(Data(text.utf8)) }

        /// Reads until `text` appeared; fails after a minute without it (a hang guard, not a timing expectation).
        func read(until text: String) throws {
            let deadline = Date().addingTimeInterval(60)
            while !transcript.contains(text) {
                guard Date() < deadline else {
                    Issue.record("no '\(text)' in the terminal; it showed:\n\(transcript)")
                    throw POSIXError(.ETIMEDOUT)
                }
                var descriptor = pollfd(fd: master.fileDescriptor, events: Int16(POLLIN), revents: 0)
                guard poll(&descriptor, 1, 1000) > 0 else { continue }
                let chunk = master.availableData
                if chunk.isEmpty { break }
                transcript += String(decoding: chunk, as: UTF8.self)
            }
            if let range = transcript.range(of: text) { transcript = String(transcript[range.upperBound...]) }
        }

        /// The exit status; a minute without exiting ends the process and fails (a hang guard).
        func waitForExit() throws -> Int32 {
            let deadline = Date().addingTimeInterval(60)
            while process.isRunning {
                guard Date() < deadline else {
                    process.terminate()
                    Issue.record("the REPL did not exit; the terminal showed:\n\(transcript)")
                    throw POSIXError(.ETIMEDOUT)
                }
                var descriptor = pollfd(fd: master.fileDescriptor, events: Int16(POLLIN), revents: 0)
                if poll(&descriptor, 1, 100) > 0 { transcript += String(decoding: master.availableData, as: UTF8.self) }
            }
            return process.terminationStatus
        }

        deinit {
            if process.isRunning { process.terminate() }
        }
    }
#endif
