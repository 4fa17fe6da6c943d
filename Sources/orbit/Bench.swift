import ArgumentParser
import Foundation
import Logging
@_spi(Benchmarks) import LuaRuntime

/// `orbit bench`: Orbit's benchmarks. Build in Release (`scripts/bench` does) before trusting the numbers.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run Orbit's benchmarks (build with -c release).",
        subcommands: [LuaBench.self, QuoteBench.self, ReportBench.self]
    )
}

/// The runtime microbenchmark: the cost of crossing the boundary each way and of the limit mechanism.
struct LuaBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lua",
        abstract: "Time Swift→Lua calls, Lua→Swift calls and the sandbox's limit hook."
    )

    @Option(help: "Calls per boundary measurement.")
    var calls: Int = 1_000_000

    @Option(help: "Repetitions of each pure-Lua workload (the best run counts).")
    var repetitions: Int = 5

    @Flag(help: "Only the boundary rows (for profiling).")
    var boundaryOnly = false

    func run() throws {
        let logger = Logger(label: "orbit.bench", factory: { _ in SwiftLogNoOpLogHandler() })
        print("# LuaRuntime microbenchmark (\(calls) calls per boundary row; best of \(repetitions) for workloads)")
        print()
        try boundary(logger: logger)
        guard !boundaryOnly else { return }
        print()
        try limitMechanism(logger: logger)
    }

    // MARK: Boundary

    private func boundary(logger: Logger) throws {
        let lua = try LuaState(limits: LuaLimits(instructions: Int.max), logger: logger)
        let fields = (1...10).map { "f\($0)" }
        let sumAll = fields.map { "c.\($0)" }.joined(separator: " + ")
        let readAll = try function(lua, "function(c) return \(sumAll) end")
        let readTwo = try function(lua, "function(c) return c.f1 + c.f10 end")
        let constant = try function(lua, "function() return 1 end")

        let table: LuaValue = .map(Dictionary(uniqueKeysWithValues: fields.enumerated().map {
            (.string($1), .integer(Int64($0)))
        }))
        let record = BenchRecord()
        let recordType = LuaObjectType<BenchRecord>(name: "record")
        for (offset, name) in fields.enumerated() {
            recordType.field(name) { .integer($0.values[offset]) }
        }
        lua.register(recordType)

        print("| boundary | ns/call (mean) | p50 ns | p99 ns |")
        print("|---|---:|---:|---:|")
        try row("Swift→Lua, 10-field table argument, Lua reads all 10") {
            try lua.call(readAll) { $0.push(table) } results: { try $0.integer(at: 1) }
        }
        try row("Swift→Lua, 10-field userdata argument, Lua reads all 10") {
            try lua.call(readAll) { $0.push(record, as: recordType) } results: { try $0.integer(at: 1) }
        }
        try row("Swift→Lua, 10-field userdata argument, Lua reads 2") {
            try lua.call(readTwo) { $0.push(record, as: recordType) } results: { try $0.integer(at: 1) }
        }
        try row("Swift→Lua, no arguments, one integer result (call overhead alone)") {
            try lua.call(constant) { _ in } results: { try $0.integer(at: 1) }
        }

        lua.register(function: "host") { stack in stack.push(try stack.integer(at: 1) &+ 1) }
        let loopCalling = try function(lua, "function(n) local s = 0 for i = 1, n do s = host(i) end return s end")
        let loopEmpty = try function(lua, "function(n) local s = 0 for i = 1, n do s = i + 1 end return s end")
        let calling = try bestSeconds { _ = try lua.call(loopCalling, .integer(Int64(calls))) }
        let empty = try bestSeconds { _ = try lua.call(loopEmpty, .integer(Int64(calls))) }
        let perCall = (calling - empty) / Double(calls) * 1e9
        print("| Lua→Swift, one integer in and out (loop cost subtracted) | \(format(perCall)) | – | – |")
    }

    private func row(_ name: String, _ body: () throws -> Int64) throws {
        let warmup = min(calls, 10_000)
        for _ in 0..<warmup { _ = try body() }
        var samples = [UInt64](repeating: 0, count: calls)
        let start = DispatchTime.now().uptimeNanoseconds
        for index in 0..<calls {
            let before = DispatchTime.now().uptimeNanoseconds
            _ = try body()
            samples[index] = DispatchTime.now().uptimeNanoseconds - before
        }
        let total = Double(DispatchTime.now().uptimeNanoseconds - start)
        samples.sort()
        let p50 = samples[samples.count / 2]
        let p99 = samples[min(samples.count - 1, samples.count * 99 / 100)]
        print("| \(name) | \(format(total / Double(calls))) | \(p50) | \(p99) |")
    }

    private func row(_ name: String, _ body: () throws -> Int) throws {
        try row(name) { Int64(try body()) }
    }

    // MARK: Limit mechanism

    private func limitMechanism(logger: Logger) throws {
        let workloads: [(String, String)] = [
            ("numeric loop (50M additions)", "function() local s = 0 for i = 1, 50000000 do s = s + i end return s end"),
            ("recursive fib(30)",
             "function() local function fib(n) if n < 2 then return n end return fib(n-1) + fib(n-2) end return fib(30) end"),
            ("table and string work",
             """
             function()
               local n = 0
               for i = 1, 300000 do
                 local t = { id = i, name = "c-" .. i, tags = { "a", "b" } }
                 if t.name:sub(1, 2) == "c-" and #t.tags == 2 then n = n + 1 end
               end
               return n
             end
             """),
        ]
        let mechanisms: [(String, LuaLimits)] = [
            ("no hook (unmetered; the floor any watchdog scheme could reach)", unmetered()),
            ("count hook every 100 instructions", LuaLimits(instructions: Int.max, hookInterval: 100)),
            ("count hook every 1,000 (default)", LuaLimits(instructions: Int.max)),
            ("count hook every 10,000", LuaLimits(instructions: Int.max, hookInterval: 10_000)),
            ("count hook every 1,000 + deadline check", LuaLimits(instructions: Int.max, deadline: .seconds(3600))),
        ]
        print("| workload | mechanism | best ms | vs unmetered |")
        print("|---|---|---:|---:|")
        for (name, source) in workloads {
            var baseline: Double?
            for (mechanism, limits) in mechanisms {
                let lua = try LuaState(limits: limits, logger: logger)
                let workload = try function(lua, source)
                let seconds = try bestSeconds { _ = try lua.call(workload) }
                let ratio = baseline.map { seconds / $0 } ?? 1
                if baseline == nil { baseline = seconds }
                print("| \(name) | \(mechanism) | \(format(seconds * 1000)) | \(String(format: "%.2f×", ratio)) |")
            }
        }
    }

    private func unmetered() -> LuaLimits {
        var limits = LuaLimits(instructions: Int.max)
        limits.unmetered = true
        return limits
    }

    // MARK: Helpers

    private func function(_ lua: LuaState, _ expression: String) throws -> LuaFunction {
        let chunk = try lua.load("return \(expression)", chunkName: "bench.lua")
        return try lua.call(chunk) { _ in } results: { try $0.function(at: 1) }
    }

    private func bestSeconds(_ body: () throws -> Void) throws -> Double {
        var best = Double.infinity
        for _ in 0..<max(1, repetitions) {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return best
    }

    private func format(_ value: Double) -> String { String(format: "%.1f", value) }
}

/// A host object with ten integer fields, standing in for a customer view.
private final class BenchRecord {
    let values: [Int64] = Array(1...10)
}
