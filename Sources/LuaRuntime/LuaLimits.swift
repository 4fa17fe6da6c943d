/// The limits every call into Lua runs under. Exceeding one raises a ``LuaError`` of the matching limit kind; the
/// state stays usable for the next call.
public struct LuaLimits: Sendable, Equatable {
    /// Lua VM instructions one call may execute (pattern-matching steps count too). Deterministic: the same rule on
    /// the same input fails at the same point in a replay as in production.
    public var instructions: Int
    /// Wall-clock time one call may take, checked every ``hookInterval`` instructions; `nil` for none.
    public var deadline: Duration?
    /// Bytes the whole state (compiled rules included) may hold.
    public var memoryBytes: Int
    /// Bytes of source one chunk may have.
    public var sourceBytes: Int
    /// Instructions between two checks of the limits. Larger is cheaper but lets a call overrun by up to this much.
    public var hookInterval: Int
    /// Benchmarks only: runs without the limit hook (no instruction budget, no deadline), to measure its cost.
    @_spi(Benchmarks) public var unmetered = false

    /// Creates limits; the defaults suit rule evaluation (about 10 ms of pure Lua per call at most).
    public init(
        instructions: Int = 10_000_000,
        deadline: Duration? = nil,
        memoryBytes: Int = 64 << 20,
        sourceBytes: Int = 1 << 20,
        hookInterval: Int = 1_000
    ) {
        self.instructions = instructions
        self.deadline = deadline
        self.memoryBytes = memoryBytes
        self.sourceBytes = sourceBytes
        self.hookInterval = hookInterval
    }
}
