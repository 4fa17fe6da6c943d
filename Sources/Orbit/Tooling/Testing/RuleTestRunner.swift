public import Logging
import LuaRuntime

/// `orbit test`: runs the `*_test.lua` files beside the rules. Each test gets an empty store in memory, a manual
/// clock starting at 2026-01-01T00:00:00Z and an engine over a fresh copy of the rules; its body records steps
/// (`given.customer`, `at`, `event`, `expect.*`) that then run in order. A failing step fails the test and the rest
/// of its steps still run, so one run shows every difference.
public struct RuleTestRunner {
    private let sources: RuleSources
    private let logger: Logger

    /// A runner for the rules in `sources`.
    public init(sources: RuleSources, logger: Logger) {
        self.sources = sources
        self.logger = logger
    }

    /// Runs every test of the test file (`name`, `source`) and returns their results in file order.
    public func run(testFile name: String, source: String) async -> [TestResult] {
        let declared: [DeclaredTest]
        let host: RuleBook
        let recorder = StepRecorder()
        do {
            host = try sources.book(logger: logger)
            declared = try Self.declare(name, source, in: host, recorder: recorder)
        } catch {
            return [TestResult(file: name, name: "(loading the file)", failures: ["\(error)"])]
        }
        var results: [TestResult] = []
        for test in declared {
            recorder.steps = []
            var failures: [String] = []
            do {
                try host.lua.call(test.body)
            } catch {
                failures.append("\(error)")
            }
            let steps = recorder.steps
            let run = TestRun(sources: sources, logger: logger)
            for (index, step) in steps.enumerated() {
                do {
                    if let failure = try await run.perform(step, next: index + 1 < steps.count ? steps[index + 1] : nil)
                    {
                        failures.append("\(step.file):\(step.line): \(step.call): \(failure)")
                    }
                } catch {
                    failures.append("\(step.file):\(step.line): \(step.call): \(error)")
                }
            }
            results.append(TestResult(file: name, name: test.name, failures: failures))
        }
        return results
    }

    /// What the test host functions record into.
    final class StepRecorder {
        var tests: [DeclaredTest] = []
        var steps: [TestStep] = []
    }

    /// Runs the test file's top level, which declares its tests, in an environment with the test API.
    private static func declare(_ name: String, _ source: String, in host: RuleBook, recorder: StepRecorder) throws
        -> [DeclaredTest]
    {
        let lua = host.lua
        let environment = lua.makeEnvironment()
        let prelude = try lua.load(
            TestPrelude.source, chunkName: TestPrelude.chunkName, environment: environment, internal: true)
        _ = try lua.call(prelude) { stack in
            stack.push(function: "record") { stack in
                let kind = try stack.string(at: 1)
                if kind == "test" {
                    recorder.tests.append(DeclaredTest(name: try stack.string(at: 2), body: try stack.function(at: 3)))
                    return
                }
                let location = stack.callerLocation
                let file = location?.chunk ?? name
                let line = location?.line ?? 0
                var arguments: [LuaValue] = []
                for position in stride(from: 2, through: stack.count, by: 1) {
                    arguments.append(try stack.value(at: position))
                }
                recorder.steps.append(TestStep(kind: kind, arguments: arguments, file: file, line: line))
            }
            stack.push(.array(Expectations.table.keys.sorted().map(LuaValue.string)))
            stack.push(function: "suggest") { stack in
                guard case .map(let table) = try stack.value(at: 2) else { return }
                stack.push(Suggestion.didYouMean(try stack.string(at: 1), among: table.keys.compactMap(\.stringValue)))
            }
        } results: { _ in
            ()
        }
        try lua.call(lua.load(source, chunkName: name, environment: environment))
        return recorder.tests
    }
}

extension TestResult {
    /// The summary line `orbit test` ends with.
    public static func summary(_ results: [TestResult]) -> String {
        let failed = results.filter { !$0.passed }.count
        return "\(results.count - failed) passed, \(failed) failed"
    }
}
