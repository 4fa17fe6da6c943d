import ArgumentParser
import LuaRuntime

/// The sandbox limits, as flags shared by every command that runs Lua.
struct LimitOptions: ParsableArguments {
    @Option(help: "Lua instructions one call may execute.")
    var instructions: Int = LuaLimits().instructions

    @Option(help: "Milliseconds one call may take (wall clock); none by default.")
    var deadlineMs: Int?

    @Option(help: "Bytes of memory the Lua state may hold (suffixes k, m, g).", transform: parseByteCount)
    var memory: Int = LuaLimits().memoryBytes

    @Option(help: "Bytes of source one file may have (suffixes k, m, g).", transform: parseByteCount)
    var sourceSize: Int = LuaLimits().sourceBytes

    func validate() throws {
        guard instructions > 0 else { throw ValidationError("--instructions must be positive") }
        guard memory > 0 else { throw ValidationError("--memory must be positive") }
        guard sourceSize > 0 else { throw ValidationError("--source-size must be positive") }
        if let deadlineMs, deadlineMs <= 0 { throw ValidationError("--deadline-ms must be positive") }
    }

    var limits: LuaLimits {
        LuaLimits(
            instructions: instructions,
            deadline: deadlineMs.map { .milliseconds($0) },
            memoryBytes: memory,
            sourceBytes: sourceSize
        )
    }
}

/// Parses `65536`, `64k`, `64m` or `1g` into bytes.
func parseByteCount(_ text: String) throws -> Int {
    let lowered = text.lowercased()
    let multipliers: [Character: Int] = ["k": 1 << 10, "m": 1 << 20, "g": 1 << 30]
    if let suffix = lowered.last, let multiplier = multipliers[suffix], let value = Int(lowered.dropLast()) {
        let (bytes, overflow) = value.multipliedReportingOverflow(by: multiplier)
        if !overflow { return bytes }
    } else if let value = Int(lowered) {
        return value
    }
    throw ValidationError("'\(text)' is not a byte count (examples: 65536, 64k, 64m, 1g)")
}
