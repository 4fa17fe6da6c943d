import CLua
public import Logging

/// One sandboxed Lua 5.4 state: load chunks under a name, call their functions under limits, expose Swift
/// functions and objects to them.
///
/// Every chunk runs in the sandbox (`docs/sandbox.md`): it gets a fresh global table over a frozen, read-only base
/// of safe libraries, so one chunk never sees another's globals or changes what another sees. Every call runs
/// under ``limits``; hitting one throws a ``LuaError`` of that limit's kind and leaves the state usable.
///
/// A state is used by one thread at a time (it is not `Sendable`); keep one per worker, or a pool.
///
/// ```swift
/// let lua = try LuaState(logger: logger)
/// let chunk = try lua.load("return function(total) return total // 100 end", chunkName: "rules/points.lua")
/// let points = try lua.call(chunk) { _ in } results: { try $0.function(at: 1) }
/// try lua.call(points, 4999)  // [49]
/// ```
public final class LuaState {
    let core: StateCore

    /// Creates a state with the sandbox installed. `print` in Lua code goes to `logger` at `info` level.
    public init(limits: LuaLimits = LuaLimits(), logger: Logger) throws(LuaError) {
        core = try StateCore(limits: limits, logger: logger)
        try Sandbox.install(in: core)
    }

    /// The limits every call runs under. Changing them applies to the next call.
    public var limits: LuaLimits {
        get { core.limits }
        set { core.limits = newValue }
    }

    /// Bytes the state holds now (compiled chunks, tables, strings), as counted by its allocator.
    public var memoryInUse: Int { core.memoryInUse }

    // MARK: Loading

    /// Compiles `source` as a text chunk; errors and tracebacks name it `chunkName` (e.g. `rules/vip.lua`).
    /// The chunk gets its own fresh global table. Binary chunks are refused.
    ///
    /// A host's own Lua (a prelude defining a rule language) can be loaded as `internal`: error locations then skip
    /// its frames and name the user's code that called it.
    public func load(_ source: String, chunkName: String, internal: Bool = false) throws(LuaError) -> LuaFunction {
        if `internal` { core.internalChunks.insert(chunkName) }
        try core.loadChunk(source, chunkName: chunkName)
        return LuaFunction(core: core, reference: luaL_ref(core.L, orbit_registryindex()), chunk: chunkName)
    }

    /// Loads and runs a chunk, returning what it returned.
    @discardableResult
    public func run(_ source: String, chunkName: String) throws(LuaError) -> [LuaValue] {
        try call(load(source, chunkName: chunkName))
    }

    // MARK: Calling

    /// Calls `function` with `arguments` under the limits and returns all its results.
    @discardableResult
    public func call(_ function: LuaFunction, _ arguments: LuaValue...) throws(LuaError) -> [LuaValue] {
        try call(function, arguments: arguments)
    }

    /// Calls `function` with `arguments` under the limits and returns all its results.
    @discardableResult
    public func call(_ function: LuaFunction, arguments: [LuaValue]) throws(LuaError) -> [LuaValue] {
        try call(function) { stack in
            for argument in arguments { stack.push(argument) }
        } results: { results in
            var values: [LuaValue] = []
            values.reserveCapacity(results.count)
            for position in 0..<results.count { values.append(try results.value(at: position + 1)) }
            return values
        }
    }

    /// Calls `function`, pushing its arguments and reading its results directly on the stack: the fast path, with no
    /// intermediate values (host objects can be passed as userdata this way).
    public func call<Result>(
        _ function: LuaFunction,
        arguments: (inout LuaStack) throws -> Void,
        results: (borrowing LuaStack) throws -> Result
    ) throws(LuaError) -> Result {
        precondition(function.core === core, "a LuaFunction can only be called on the state that made it")
        let L = core.L
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        guard lua_checkstack(L, 8) != 0 else {
            throw LuaError(kind: .stackOverflow, chunk: function.chunk, message: "no room on the Lua stack for a call")
        }
        core.pushReference(function.reference)
        var stack = LuaStack(core: core, base: top + 1, function: "arguments")
        do {
            try arguments(&stack)
        } catch {
            throw LuaError(kind: .conversion, chunk: function.chunk, message: "arguments: \(error)")
        }
        guard !stack.overflowed else {
            throw LuaError(kind: .stackOverflow, chunk: function.chunk, message: "too many arguments for the Lua stack")
        }
        try core.protectedCall(argumentCount: stack.pushedCount, chunk: function.chunk)
        let output = LuaStack(core: core, base: top, function: "results")
        do {
            return try results(output)
        } catch let error as LuaArgumentError {
            throw LuaError(
                kind: .conversion, chunk: function.chunk,
                message: "bad result #\(error.position) (\(error.problem))")
        } catch {
            throw LuaError(kind: .conversion, chunk: function.chunk, message: "results: \(error)")
        }
    }

    // MARK: Exposing Swift to Lua

    /// Makes a Swift function a global that every chunk sees (in the frozen base). Errors it throws reach Lua as
    /// Lua errors, raised after the Swift frame has returned.
    public func register(function name: String, _ body: @escaping LuaHostFunctionBody) {
        core.pushReference(core.baseEnvironmentRef)
        core.pushHostFunction(HostFunction(name: name, body: body))
        lua_setfield(core.L, -2, name)
        orbit_pop(core.L, 1)
    }

    /// Makes a read-only table of Swift functions a global that every chunk sees, e.g. `orbit.eur(5)`.
    public func register(library name: String, functions: [String: LuaHostFunctionBody]) throws(LuaError) {
        let L = core.L
        core.pushReference(core.baseEnvironmentRef)
        lua_createtable(L, 0, Int32(clamping: functions.count))
        for (member, body) in functions.sorted(by: { $0.key < $1.key }) {
            core.pushHostFunction(HostFunction(name: "\(name).\(member)", body: body))
            lua_setfield(L, -2, member)
        }
        do {
            try Sandbox.makeReadOnly(in: core, name: name)
        } catch {
            orbit_pop(L, 1)
            throw error
        }
        lua_setfield(L, -2, name)
        orbit_pop(L, 1)
    }

    /// Sets a global constant in the frozen base; tables become read-only (all the way down) for the chunks.
    public func setGlobal(_ name: String, _ value: LuaValue) throws(LuaError) {
        let constant = try reference(to: value, name: name)
        core.pushReference(core.baseEnvironmentRef)
        core.pushReference(constant.reference)
        lua_setfield(core.L, -2, name)
        orbit_pop(core.L, 1)
    }

    /// Makes a Lua function a global that every chunk sees (in the frozen base), e.g. a rule-language function
    /// defined in Lua by the host.
    public func setGlobal(_ name: String, _ function: LuaFunction) {
        precondition(function.core === core, "a LuaFunction can only be used on the state that made it")
        core.pushReference(core.baseEnvironmentRef)
        core.pushReference(function.reference)
        lua_setfield(core.L, -2, name)
        orbit_pop(core.L, 1)
    }

    /// Registers a host object type, so objects of it can be pushed and read as userdata. Registering the same type
    /// again does nothing.
    public func register<Object>(_ type: LuaObjectType<Object>) {
        core.register(type)
    }
}

@available(*, unavailable)
extension LuaState: Sendable {}
