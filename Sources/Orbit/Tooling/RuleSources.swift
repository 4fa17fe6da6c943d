import Foundation
public import Logging
public import LuaRuntime

/// Rule files read from disk, in the order a ``RuleBook`` loads them: what the tooling compiles again and again
/// (a REPL reload, a fresh book per test, a dry run) without reading the disk each time.
public struct RuleSources: Sendable {
    /// (file name as given, source), in load order.
    public var files: [(name: String, source: String)]

    /// Sources given directly, e.g. none for an empty rule book.
    public init(files: [(name: String, source: String)]) {
        self.files = files
    }

    /// Reads `path`: one `.lua` file, or every `*.lua` file of a directory except `*_test.lua`, in name order.
    public init(path: String) throws(RuleError) {
        files = try Self.read(path, suffix: ".lua", excluding: "_test.lua")
    }

    /// The `*_test.lua` files of a directory (or the file `path` itself).
    public static func testFiles(at path: String) throws(RuleError) -> [(name: String, source: String)] {
        try read(path, suffix: "_test.lua", excluding: nil)
    }

    /// A new rule book over these sources.
    public func book(limits: LuaLimits = LuaLimits(), logger: Logger) throws(RuleError) -> RuleBook {
        do {
            return try RuleBook(sources: files, limits: limits, logger: logger)
        } catch let error as RuleError {
            throw error
        } catch {
            throw RuleError(underlying: LuaError(kind: .runtime, message: "\(error)"))
        }
    }

    private static func read(_ path: String, suffix: String, excluding: String?) throws(RuleError)
        -> [(name: String, source: String)]
    {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw RuleError(underlying: LuaError(kind: .runtime, chunk: path, message: "no such file or directory"))
        }
        var paths = [path]
        if isDirectory.boolValue {
            let names = (try? manager.contentsOfDirectory(atPath: path)) ?? []
            paths = names.filter { $0.hasSuffix(suffix) && !(excluding.map($0.hasSuffix) ?? false) }.sorted()
                .map { (path as NSString).appendingPathComponent($0) }
        }
        var files: [(name: String, source: String)] = []
        for file in paths {
            guard let data = manager.contents(atPath: file) else {
                throw RuleError(underlying: LuaError(kind: .runtime, chunk: file, message: "cannot be read"))
            }
            files.append((file, String(decoding: data, as: UTF8.self)))
        }
        return files
    }
}
