import LuaRuntime

/// One recorded call of a test body: `given.customer{…}`, `at "…"`, `event{…}` or `expect.x(…)`, with its line.
struct TestStep {
    var kind: String
    var arguments: [LuaValue]
    var file: String
    var line: Int

    /// How the step reads in a failure: `expect.points("anna", 600)`.
    var call: String {
        let rendered = arguments.map(\.description)
        if arguments.count == 1, case .map = arguments[0] { return kind + rendered[0] }
        return "\(kind)(\(rendered.joined(separator: ", ")))"
    }
}

/// A test as its file declares it: the name and the body to run.
struct DeclaredTest {
    var name: String
    var body: LuaFunction
}

/// The outcome of one test.
public struct TestResult: Sendable {
    public var file: String
    public var name: String
    /// `file:line: what failed`, one per failing step; empty when the test passed.
    public var failures: [String]
    public var passed: Bool { failures.isEmpty }
}

/// A step failed: expected against actual, said to the marketer.
struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
