import ArgumentParser
import Foundation
import Logging
import Orbit
import OrbitSQLite

/// `orbit repl`: a Lua prompt in the rule sandbox, with the rules loaded and the store's customers at hand.
struct Repl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Try rules interactively: Lua in the rule sandbox, and dot commands (.help) over the store.",
        discussion: """
            Reads lines from the terminal (line editing, history in $ORBIT_HISTORY or ~/.orbit_history, Tab \
            completion) or from a pipe. The store is read, never written: .simulate runs on a copy.
            """)

    @Option(help: "Rule file or directory.") var rules: String?
    @Option(help: "SQLite database to read customers from (default: an empty store in memory).") var db: String?

    func run() async throws {
        if let db, !FileManager.default.fileExists(atPath: db) {
            throw ValidationError("no database '\(db)' (the REPL reads a store, it does not create one)")
        }
        let store: any Store = try db.map { try SQLiteStore(path: $0) } ?? MemoryStore()
        // `print` in Lua typed at the prompt shows on the terminal.
        let logger = Logger(label: "orbit.repl", factory: { _ in PrintLogHandler() })
        let console = try await RuleConsole(rules: rules, store: store, now: SystemClock().now(), logger: logger)
        let editor = LineEditor(historyPath: Self.historyPath) { console.completions(for: $0) }
        if LineEditor.inputIsTerminal {
            print("Orbit REPL: Lua in the rule sandbox; .help for commands, Ctrl-D to quit.")
        }
        if !console.greeting.isEmpty { print(console.greeting) }
        while !console.isFinished, let line = editor.readLine(prompt: console.prompt) {
            let reply = await console.handle(line)
            if !reply.output.isEmpty { print(reply.output) }
        }
    }

    private static var historyPath: String? {
        if let path = ProcessInfo.processInfo.environment["ORBIT_HISTORY"] { return path.isEmpty ? nil : path }
        return (NSHomeDirectory() as NSString).appendingPathComponent(".orbit_history")
    }
}

/// Log messages as plain lines on standard output: what `print` in the REPL's Lua writes.
struct PrintLogHandler: LogHandler {
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        print(event.message.description)
    }
}
