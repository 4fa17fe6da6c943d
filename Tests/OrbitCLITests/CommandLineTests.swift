import Foundation
import Testing

/// Runs the real `orbit` binary, as a user would.
struct OrbitBinary {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// A product of this package built beside the tests: `orbit`, or an example such as `checkout-service`.
    static func executable(_ name: String = "orbit") -> URL {
        let besideTests = Bundle.main.bundleURL.appendingPathComponent(name)
        if FileManager.default.isExecutableFile(atPath: besideTests.path) { return besideTests }
        return repository.appendingPathComponent(".build/debug/\(name)")
    }

    struct Result {
        var status: Int32
        var output: String
        var errors: String
    }

    static func run(_ arguments: [String], program: String = "orbit") throws -> Result {
        let process = Process()
        process.executableURL = executable(program)
        process.arguments = arguments
        process.currentDirectoryURL = repository
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self),
            errors: String(decoding: errorData, as: UTF8.self))
    }
}

/// A fresh temporary directory, removed when the test ends.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("orbit-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}

@Suite("orbit eval")
struct EvalCommandTests {
    @Test("prints one line per file")
    func evalExample() throws {
        let result = try OrbitBinary.run(["eval", "examples/hello.lua"])
        #expect(result.status == 0)
        #expect(result.output == "\"67.96 EUR\"\t67\t42\n")
    }

    @Test("an error prints FILE:LINE: message on stderr and exits 1; the limits are flags")
    func evalErrors() throws {
        let directory = try TemporaryDirectory()
        let broken = directory.path("broken.lua")
        try "local t = {}\nreturn t.x.y\n".write(toFile: broken, atomically: true, encoding: .utf8)
        let result = try OrbitBinary.run(["eval", "examples/hello.lua", broken])
        #expect(result.status == 1)
        #expect(result.output == "\"67.96 EUR\"\t67\t42\n")
        #expect(result.errors == "\(broken):2: attempt to index a nil value (field 'x')\n")
        let loop = directory.path("loop.lua")
        try "while true do end".write(toFile: loop, atomically: true, encoding: .utf8)
        let limited = try OrbitBinary.run(["eval", "--instructions", "5000", loop])
        #expect(limited.errors == "\(loop):1: instruction limit of 5000 exceeded\n")
        #expect(try OrbitBinary.run(["eval", directory.path("missing.lua")]).errors.contains("no such file"))
    }
}

@Suite("orbit replay")
struct ReplayCommandTests {
    static let rules = "examples/loyalty/rules"
    static let walkthrough = "examples/loyalty/events/walkthrough.ndjson"

    @Test(
        "a file ordered by customer, not time, gives the same result whatever the batch size, in memory or in SQLite",
        arguments: [false, true])
    func batchSizeDoesNotMatter(sqlite: Bool) throws {
        let directory = try TemporaryDirectory()
        func summary(batchSize: Int) throws -> [String: Any] {
            // Many small batches: each written while the rules run the next (overlapped ingestion).
            let store = sqlite ? ["--db", directory.path("batch-\(batchSize).db")] : ["--in-memory"]
            let result = try OrbitBinary.run(
                ["replay", "--json"] + store + [
                    "--rules", Self.rules, "--batch-size", "\(batchSize)",
                    "--mapping", "examples/loyalty/data/cdnow-sample.mapping.json",
                    "examples/loyalty/data/CDNOW_sample.txt",
                ])
            var fields = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
            for key in ["elapsed_seconds", "events_per_second", "peak_memory_bytes"] { fields[key] = nil }
            return fields
        }
        let small = try summary(batchSize: 7)
        let large = try summary(batchSize: 5_000)
        #expect(NSDictionary(dictionary: small).isEqual(to: large))
        #expect(small["lapses"] as? Int ?? 0 > 0)
    }

    /// bench/loyalty-when writes the example's segments and platinum tier as `when` functions and its earning rule as
    /// a Lua function (the benchmark's comparison): both must find the same tiers, segments and points.
    @Test("the loyalty example's declared conditions and their Lua form give the same replay")
    func declaredConditionsMatchTheirLuaForm() throws {
        let directory = try TemporaryDirectory()
        let manager = FileManager.default
        let when = directory.path("rules")
        try manager.createDirectory(atPath: when, withIntermediateDirectories: true)
        for source in [Self.rules, "bench/loyalty-when"] {
            let folder = OrbitBinary.repository.appendingPathComponent(source)
            for name in try manager.contentsOfDirectory(atPath: folder.path) where name.hasSuffix(".lua") {
                let target = URL(fileURLWithPath: when).appendingPathComponent(name)
                try? manager.removeItem(at: target)
                try manager.copyItem(at: folder.appendingPathComponent(name), to: target)
            }
        }
        #expect(try String(contentsOfFile: when + "/segments.lua", encoding: .utf8).contains("when = function"))
        func summary(rules: String) throws -> String {
            let result = try OrbitBinary.run([
                "replay", "--json", "--in-memory", "--rules", rules,
                "--mapping", "examples/loyalty/data/cdnow-sample.mapping.json", "examples/loyalty/data/CDNOW_sample.txt",
            ])
            var fields = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
            for key in ["elapsed_seconds", "events_per_second", "peak_memory_bytes"] { fields[key] = nil }
            let json = try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
            return String(decoding: json, as: UTF8.self).replacingOccurrences(of: rules + "/", with: "")
                .replacingOccurrences(of: rules.replacingOccurrences(of: "/", with: "\\/") + "\\/", with: "")
        }
        let declared = try summary(rules: Self.rules)
        #expect(declared == (try summary(rules: when)))
        #expect(declared.contains("\"vip\":") && !declared.contains("\"vip\":0"))
    }

    @Test("the walkthrough replays as its README says; a second replay applies nothing")
    func walkthrough() throws {
        let directory = try TemporaryDirectory()
        let db = directory.path("orbit.db")
        let first = try OrbitBinary.run(["replay", "--rules", Self.rules, "--db", db, Self.walkthrough])
        #expect(first.status == 0)
        let lines = first.output.split(separator: "\n").map(String.init)
        #expect(lines.prefix(7) == [
            "events      9 read, 8 applied, 0 duplicates, 1 rejected",
            "  rejected  examples/loyalty/events/walkthrough.ndjson:9: field 'total' must not be negative, got -500",
            "lapses      3 (expiries and inactivity)",
            "points      2104 issued, 0 spent, 250 expired",
            "messages    3 queued",
            "tiers       gold 1, silver 1  (all customers)",
            "segments    at-risk 0, one-timer 1, vip 1  (all customers, at the last event)",
        ])
        let readme = try String(contentsOf: OrbitBinary.repository.appendingPathComponent("examples/loyalty/README.md"), encoding: .utf8)
        for line in lines where !line.hasPrefix("elapsed") { #expect(readme.contains(line), "README lacks: \(line)") }

        let second = try OrbitBinary.run(["replay", "--json", "--rules", Self.rules, "--db", db, Self.walkthrough])
        let summary = try #require(
            try JSONSerialization.jsonObject(with: Data(second.output.utf8)) as? [String: Any])
        #expect(summary["read"] as? Int == 9)
        #expect(summary["applied"] as? Int == 0)
        #expect(summary["duplicates"] as? Int == 8)
        #expect(summary["rejected"] as? Int == 1)
        #expect(summary["points_issued"] as? Int == 0)
    }

    @Test("--strict stops at the first rejected line with exit status 1")
    func strict() throws {
        let directory = try TemporaryDirectory()
        let result = try OrbitBinary.run([
            "replay", "--strict", "--json", "--rules", Self.rules, "--db", directory.path("o.db"), Self.walkthrough,
        ])
        #expect(result.status == 1)
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        #expect(summary["rejected"] as? Int == 1)
    }

    @Test("a broken rule file stops the replay with file:line before any event is applied")
    func brokenRules() throws {
        let directory = try TemporaryDirectory()
        let rules = directory.path("rules")
        try FileManager.default.createDirectory(atPath: rules, withIntermediateDirectories: true)
        try "segment \"vip\" {\n  wen = function(c) return true end,\n}\n"
            .write(toFile: rules + "/vip.lua", atomically: true, encoding: .utf8)
        let result = try OrbitBinary.run(["replay", "--rules", rules, "--db", directory.path("o.db"), Self.walkthrough])
        #expect(result.status == 1)
        #expect(result.errors == "\(rules)/vip.lua:1: segment 'vip': unknown field 'wen' (did you mean 'when'?)\n")
    }

    @Test("customer export shows what Orbit holds; forget erases personal data and keeps totals")
    func exportAndForget() throws {
        let directory = try TemporaryDirectory()
        let db = directory.path("orbit.db")
        _ = try OrbitBinary.run(["replay", "--rules", Self.rules, "--db", db, Self.walkthrough])
        let export = try OrbitBinary.run(["customer", "export", "anna", "--db", db])
        #expect(export.status == 0)
        #expect(export.output.contains("\"first_name\" : \"Anna\""))
        #expect(export.output.contains("\"email\" : true"))
        let forget = try OrbitBinary.run(["customer", "forget", "anna", "--db", db])
        #expect(forget.status == 0)
        let after = try OrbitBinary.run(["customer", "export", "anna", "--db", db])
        #expect(!after.output.contains("Anna"))
        #expect(after.output.contains("\"minorUnits\" : 45000"), "order totals stay")
        #expect(after.output.contains("\"points\" : 100"), "the ledger stays")
        let unknown = try OrbitBinary.run(["customer", "forget", "nobody", "--db", db])
        #expect(unknown.status != 0)
    }
}
