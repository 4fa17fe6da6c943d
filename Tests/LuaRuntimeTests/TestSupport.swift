import Logging
import LuaRuntime
import Synchronization

/// A log handler that keeps what it is given, so tests can see where `print` went.
final class CapturingLogHandler: LogHandler, Sendable {
    private let storage = Mutex<[String]>([])
    var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }
    var logLevel: Logger.Level {
        get { .trace }
        set {}
    }

    var messages: [String] { storage.withLock { $0 } }

    subscript(metadataKey _: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }

    func log(event: LogEvent) {
        storage.withLock { $0.append("\(event.metadata?["chunk"] ?? "-"): \(event.message)") }
    }
}

/// A state with the default sandbox and a logger that discards, unless the test gives one.
func makeState(limits: LuaLimits = LuaLimits(), logger: Logger? = nil) throws -> LuaState {
    try LuaState(limits: limits, logger: logger ?? Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
}

/// Runs `source` expecting a failure, and returns it.
func expectFailure(
    _ state: LuaState, _ source: String, chunk: String = "rules/test.lua"
) -> LuaError? {
    do {
        _ = try state.run(source, chunkName: chunk)
        return nil
    } catch {
        return error
    }
}
