import ArgumentParser
import Foundation
import Logging
import LuaRuntime

/// `orbit eval FILE...`: runs Lua files in the rule sandbox, like redis-cli's eval for rule snippets.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate Lua files in the rule sandbox and print what each returned.",
        discussion: """
            Each file runs as its own chunk with its own globals (as separate rule files do), all in one Lua state, \
            in order. One line per file renders its return values, separated by tabs ("(no value)" when it returned \
            nothing). On an error, FILE:LINE: message goes to standard error and the exit status is 1. `print` in \
            Lua goes to the log on standard error.
            """
    )

    @Argument(help: "Lua files to evaluate, in order.")
    var files: [String]

    @OptionGroup var limits: LimitOptions

    func run() throws {
        let state = try LuaState(limits: limits.limits, logger: Logger.toStandardError(label: "orbit.eval"))
        for file in files {
            do {
                let values = try state.run(try readSource(file), chunkName: file)
                print(values.isEmpty ? "(no value)" : values.map(\.description).joined(separator: "\t"))
            } catch {
                FileHandle.standardError.write(Data("\(error)\n".utf8))
                throw ExitCode.failure
            }
        }
    }

    private func readSource(_ file: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: file) else {
            let reason = FileManager.default.fileExists(atPath: file) ? "cannot be read" : "no such file"
            throw InputError(message: "\(file): \(reason)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// A problem with what the user gave a command (a missing file, a malformed flag value).
struct InputError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

extension Logger {
    /// A logger writing to standard error, so that command output on standard output stays clean.
    static func toStandardError(label: String) -> Logger {
        Logger(label: label, factory: { StreamLogHandler.standardError(label: $0) })
    }
}
