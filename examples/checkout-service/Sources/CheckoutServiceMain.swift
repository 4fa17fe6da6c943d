import Foundation
import Logging
import Orbit
import OrbitSQLite

/// A shop's checkout service embedding Orbit: it builds one engine over its rule files and a SQLite file, listens to
/// the engine's outbound notifications, and runs a scripted checkout session (see README.md beside this folder).
///
/// Usage: `checkout-service [--rules DIRECTORY] [DATABASE]`. The database must not exist yet; without one, a new
/// file in a temporary directory is used and removed at the end.
@main
struct CheckoutServiceMain {
    /// The session's fixed instant, so that every run prints the same: Saturday 2026-03-28 11:00 in Berlin.
    static let sessionStart = Instant(millisecondsSinceEpoch: 1_774_692_000_000)

    static func main() async {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
        let logger = Logger(label: "checkout-service")
        do {
            let options = try Options(arguments: Array(CommandLine.arguments.dropFirst()))
            let received = try await run(options, logger: logger)
            if let directory = options.temporaryDirectory { try FileManager.default.removeItem(at: directory) }
            print("Notifications the listener received, in order:")
            for notification in received { print("  \(Describe.notification(notification))") }
        } catch {
            FileHandle.standardError.write(Data("checkout-service: \(error)\n".utf8))
            exit(1)
        }
    }

    /// Builds the engine, starts the listener, runs the session, and returns what the listener received once the
    /// engine is gone (its notification stream ends when the engine is released).
    static func run(_ options: Options, logger: Logger) async throws -> [EngineNotification] {
        let listener: Task<[EngineNotification], Never>
        do {
            let rules = try RuleBook(directory: options.rulesDirectory, logger: logger)
            let store = try SQLiteStore(path: options.databasePath)
            let clock = ManualClock(sessionStart)
            let engine = Engine(rules: rules, store: store, clock: clock, logger: logger)
            logger.info("engine ready", metadata: ["rules": "\(options.rulesDirectory)", "database": "\(options.databasePath)"])
            // Notifications are published after their transaction committed; a real service would forward them to
            // its message bus. The task holds only the stream, never the engine.
            listener = Task { [notifications = engine.notifications] in
                var received: [EngineNotification] = []
                for await notification in notifications {
                    logger.info("engine notification", metadata: ["event": "\(Describe.notification(notification))"])
                    received.append(notification)
                }
                return received
            }
            try await CheckoutSession(engine: engine, clock: clock).run()
        }
        return await listener.value
    }
}

/// The command line: where the rules are and which database file to create.
struct Options {
    var rulesDirectory = "examples/checkout-service/rules"
    var databasePath: String
    /// The directory made for the database when none was given, removed at the end.
    var temporaryDirectory: URL?

    struct UsageError: Error, CustomStringConvertible {
        var description: String
    }

    init(arguments: [String]) throws {
        var rest = arguments[...]
        var database: String?
        while let argument = rest.popFirst() {
            switch argument {
            case "--rules":
                guard let directory = rest.popFirst() else { throw UsageError(description: "--rules needs a directory") }
                rulesDirectory = directory
            case let path where !path.hasPrefix("-") && database == nil:
                database = path
            default:
                throw UsageError(description: "unexpected argument '\(argument)'; usage: checkout-service [--rules DIRECTORY] [DATABASE]")
            }
        }
        if let database {
            guard !FileManager.default.fileExists(atPath: database) else {
                throw UsageError(description: "\(database) exists already; the scripted session needs a new database file")
            }
            databasePath = database
        } else {
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("checkout-service-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            databasePath = directory.appendingPathComponent("orbit.sqlite").path
            temporaryDirectory = directory
        }
    }
}
