import ArgumentParser
import Orbit

/// `orbit check`: validates rule files before launch, with compiler-style diagnostics; exit status 1 on errors.
struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Check rule files: syntax, unknown names and fields, duplicates, unreachable tiers, offers that cannot apply.",
        discussion: "Prints FILE:LINE:COL: error|warning: message with the source line and a caret; exits 1 on errors.")

    @Argument(help: "Rule file or directory.") var path: String = "rules"
    @Option(help: "The instant offer windows and coupon expiries are compared with (ISO 8601; default: now).")
    var at: String?

    func run() async throws {
        let sources = try RuleSources(path: path)
        var now = SystemClock().now()
        if let at {
            guard let instant = Instant(iso8601: at) else {
                throw ValidationError("--at: '\(at)' is not an ISO 8601 instant with a zone")
            }
            now = instant
        }
        let diagnostics = try RuleChecker(logger: .toStandardError(label: "orbit.check"), now: now).check(
            sources.files)
        for diagnostic in diagnostics {
            print(diagnostic.rendered(source: sources.files.first { $0.name == diagnostic.file }?.source))
        }
        let errors = diagnostics.filter { $0.severity == .error }.count
        let warnings = diagnostics.count - errors
        print("\(sources.files.count) file(s) checked: \(errors) error(s), \(warnings) warning(s)")
        if errors > 0 { throw ExitCode(1) }
    }
}

/// `orbit test`: runs the `*_test.lua` files beside the rules.
struct TestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run rule tests (*_test.lua beside the rules); the last line is 'N passed, N failed'.",
        discussion:
            "Each test gets a fresh engine in memory and a clock at 2026-01-01T00:00:00Z. Exits 1 on any failure.")

    @Argument(help: "Rule directory (its *_test.lua files are the tests).") var path: String = "rules"

    func run() async throws {
        let sources = try RuleSources(path: path)
        let testFiles = try RuleSources.testFiles(at: path)
        guard !testFiles.isEmpty else { throw ValidationError("no *_test.lua files in \(path)") }
        let runner = RuleTestRunner(sources: sources, logger: .toStandardError(label: "orbit.test"))
        var results: [TestResult] = []
        for (file, source) in testFiles {
            print(file)
            for result in await runner.run(testFile: file, source: source) {
                print("  \(result.passed ? "PASS" : "FAIL")  \(result.name)")
                for failure in result.failures { print("        \(failure)") }
                results.append(result)
            }
        }
        print(TestResult.summary(results))
        if results.contains(where: { !$0.passed }) { throw ExitCode(1) }
    }
}
