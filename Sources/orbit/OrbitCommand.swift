import ArgumentParser

/// `orbit`: the command-line tool of the Orbit rules engine.
@main
struct OrbitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orbit",
        abstract: "Orbit: customer-retention rules in sandboxed Lua.",
        subcommands: [
            Eval.self, Replay.self, QuoteCommand.self, CommitCommand.self, RefundCommand.self, CustomerCommand.self,
            Repl.self, Check.self, TestCommand.self, Fit.self, Report.self, Bench.self,
        ]
    )
}
