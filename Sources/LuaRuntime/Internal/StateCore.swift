import CLua
import Logging

/// Owns one `lua_State` and the C block of limits beside it. Every C call of the runtime goes through this type or
/// through ``LuaStack``; nothing C-typed leaves the module.
///
/// The core is reached from C callbacks through the limits block's `host` pointer (unretained: the core outlives
/// its state, which it closes in `deinit`).
final class StateCore {
    let L: OpaquePointer
    let limitsBlock: UnsafeMutablePointer<orbit_limits>
    let logger: Logger
    var limits: LuaLimits {
        didSet { applyStaticLimits() }
    }

    /// Registry references set up once by the sandbox.
    var messageHandlerRef: Int32 = LUA_NOREF
    var baseEnvironmentRef: Int32 = LUA_NOREF
    var environmentMetatableRef: Int32 = LUA_NOREF
    var indexFunctionRef: Int32 = LUA_NOREF
    var deepReadOnlyRef: Int32 = LUA_NOREF
    var hostFunctionMetatableRef: Int32 = LUA_NOREF

    /// Chunks whose frames error locations skip (the sandbox's own Lua, a host's prelude).
    var internalChunks: Set<String> = [Sandbox.chunkName]
    /// Nesting of host → Lua calls (a host function may call back into Lua).
    private var callDepth = 0
    /// Where the message handler saw the last error, for the protected call that is unwinding.
    var lastErrorSite: ErrorSite?
    /// Metatable references of the registered object types, by type tag.
    var objectMetatables: [UnsafeRawPointer: Int32] = [:]
    /// The same metatables without `__gc`, for lent userdata (see ``LuaObjectSlot``), by type tag.
    var lentMetatables: [UnsafeRawPointer: Int32] = [:]

    struct ErrorSite {
        var chunk: String?
        var line: Int?
        var message: String
        var traceback: String?
    }

    init(limits: LuaLimits, logger: Logger) throws(LuaError) {
        let block = UnsafeMutablePointer<orbit_limits>.allocate(capacity: 1)
        block.initialize(to: orbit_limits())
        block.pointee.host_depth = 1
        block.pointee.dispatch = hostFunctionDispatch
        guard let state = orbit_newstate(block) else {
            block.deallocate()
            throw LuaError(kind: .memoryLimit, message: "cannot create a Lua state: out of memory")
        }
        self.L = state
        self.limitsBlock = block
        self.logger = logger
        self.limits = limits
        block.pointee.host = Unmanaged.passUnretained(self).toOpaque()
        applyStaticLimits()
        registerInterruptErrors()
    }

    deinit {
        lua_close(L)
        limitsBlock.deallocate()
    }

    private func applyStaticLimits() {
        limitsBlock.pointee.memory_limit = max(0, limits.memoryBytes)
        installLimitHook()
    }

    /// Installs the count hook at the configured interval (also restoring it after a limit tripped).
    private func installLimitHook() {
        orbit_set_limit_hook(L, limits.unmetered ? 0 : Int32(clamping: max(1, limits.hookInterval)))
    }

    private func registerInterruptErrors() {
        let messages: [(Int32, String)] = [
            (Int32(ORBIT_LIMIT_INSTRUCTIONS), "instruction limit exceeded"),
            (Int32(ORBIT_LIMIT_DEADLINE), "deadline exceeded"),
        ]
        withUnsafeMutableBytes(of: &limitsBlock.pointee.interrupt_refs) { refs in
            let slots = refs.bindMemory(to: Int32.self)
            for (limit, message) in messages {
                lua_pushstring(L, message)
                slots[Int(limit)] = luaL_ref(L, orbit_registryindex())
            }
        }
    }

    // MARK: - Memory

    /// Bytes the state holds now.
    var memoryInUse: Int { Int(limitsBlock.pointee.memory_used) }

    // MARK: - Registry

    func reference(at index: Int32) -> Int32 {
        lua_pushvalue(L, index)
        return luaL_ref(L, orbit_registryindex())
    }

    func pushReference(_ ref: Int32) {
        lua_rawgeti(L, orbit_registryindex(), lua_Integer(ref))
    }

    func release(_ ref: Int32) {
        luaL_unref(L, orbit_registryindex(), ref)
    }

    // MARK: - Calls

    /// Charges work done by the host on Lua's behalf (pattern matching) to the current call's instruction budget.
    /// Returns false when that exhausts the budget; the caller must then raise the interrupt.
    func charge(instructions: Int) -> Bool {
        let block = limitsBlock
        let (sum, overflow) = block.pointee.instructions_used.addingReportingOverflow(Int64(instructions))
        block.pointee.instructions_used = overflow ? .max : sum
        if block.pointee.tripped == Int32(ORBIT_LIMIT_NONE), block.pointee.instruction_budget > 0,
            block.pointee.instructions_used > block.pointee.instruction_budget
        {
            block.pointee.tripped = Int32(ORBIT_LIMIT_INSTRUCTIONS)
        }
        return block.pointee.tripped == Int32(ORBIT_LIMIT_NONE)
    }

    /// Marks the instruction budget as spent (work charged in bulk found it exhausted).
    func tripInstructionLimit() {
        if limitsBlock.pointee.tripped == Int32(ORBIT_LIMIT_NONE) {
            limitsBlock.pointee.tripped = Int32(ORBIT_LIMIT_INSTRUCTIONS)
        }
    }

    /// Throws when the host is about to push `bytes` it built itself (a gsub result) that the memory cap has no
    /// room for; the dispatcher then raises Lua's own memory error.
    func ensureHeadroom(bytes: Int) throws(MemoryLimitExceeded) {
        let block = limitsBlock.pointee
        guard block.memory_limit > 0 else { return }
        if block.memory_used > block.memory_limit || bytes > block.memory_limit - block.memory_used {
            throw MemoryLimitExceeded()
        }
    }

    /// Counts `bytes` the host holds on Lua's behalf (a copy kept by an iterator) against the memory cap.
    func reserveHostMemory(_ bytes: Int) throws(MemoryLimitExceeded) {
        try ensureHeadroom(bytes: bytes)
        limitsBlock.pointee.memory_used += bytes
    }

    /// Gives back what ``reserveHostMemory(_:)`` counted.
    func releaseHostMemory(_ bytes: Int) {
        limitsBlock.pointee.memory_used -= bytes
    }

    /// Bytes the memory cap still allows (`Int.max` without a cap).
    var memoryHeadroom: Int {
        let block = limitsBlock.pointee
        guard block.memory_limit > 0 else { return Int.max }
        return max(0, block.memory_limit - block.memory_used)
    }

    /// Instructions the current call may still execute.
    var remainingInstructions: Int {
        let block = limitsBlock.pointee
        guard block.instruction_budget > 0 else { return Int.max }
        return Int(max(0, block.instruction_budget - block.instructions_used))
    }

    /// Pushes the error value a tripped limit raises (no allocation, so it works at the memory cap).
    func pushInterrupt() {
        let tripped = limitsBlock.pointee.tripped
        let slot = tripped == Int32(ORBIT_LIMIT_NONE) ? Int32(ORBIT_LIMIT_INSTRUCTIONS) : tripped
        let ref = withUnsafeBytes(of: limitsBlock.pointee.interrupt_refs) { $0.bindMemory(to: Int32.self)[Int(slot)] }
        pushReference(ref)
    }

    var isInterrupted: Bool { limitsBlock.pointee.tripped != Int32(ORBIT_LIMIT_NONE) }

    /// Calls the function below `argumentCount` arguments on the stack, protected, under the limits. On success the
    /// results replace function and arguments; on failure the stack is restored and a ``LuaError`` thrown.
    func protectedCall(argumentCount: Int32, chunk: String?) throws(LuaError) {
        let functionIndex = lua_gettop(L) - argumentCount
        pushReference(messageHandlerRef)
        orbit_insert(L, functionIndex)
        let block = limitsBlock
        let savedHostDepth = block.pointee.host_depth
        if callDepth == 0 { beginOutermostCall() }
        callDepth += 1
        block.pointee.host_depth = 0
        lastErrorSite = nil
        let status = orbit_pcall(L, argumentCount, LUA_MULTRET, functionIndex)
        block.pointee.host_depth = savedHostDepth
        callDepth -= 1
        let tripped = block.pointee.tripped
        if callDepth == 0 { endOutermostCall() }
        orbit_remove(L, functionIndex)
        guard status != LUA_OK else { return }
        let error = makeError(status: status, tripped: tripped, chunk: chunk)
        lua_settop(L, functionIndex - 1)
        if error.kind == .memoryLimit, callDepth == 0 {
            // Give back what the failed call left behind before the next call starts under the same cap.
            orbit_collect_garbage(L)
        }
        throw error
    }

    private func beginOutermostCall() {
        let block = limitsBlock
        block.pointee.instructions_used = 0
        block.pointee.instruction_budget = Int64(limits.instructions)
        block.pointee.tripped = Int32(ORBIT_LIMIT_NONE)
        if let deadline = limits.deadline {
            let (seconds, attoseconds) = deadline.components
            let (nanoseconds, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
            let (deadline, late) = orbit_monotonic_ns().addingReportingOverflow(
                overflow ? .max : nanoseconds &+ attoseconds / 1_000_000_000)
            block.pointee.deadline_ns = late ? .max : deadline
        } else {
            block.pointee.deadline_ns = 0
        }
    }

    private func endOutermostCall() {
        let block = limitsBlock
        if block.pointee.tripped != Int32(ORBIT_LIMIT_NONE) {
            // The hook was switched to run on every instruction; restore the normal interval.
            installLimitHook()
            block.pointee.tripped = Int32(ORBIT_LIMIT_NONE)
        }
        block.pointee.deadline_ns = 0
    }

    private func makeError(status: Int32, tripped: Int32, chunk: String?) -> LuaError {
        let site = lastErrorSite
        let errorChunk = site?.chunk ?? chunk
        switch tripped {
        case Int32(ORBIT_LIMIT_INSTRUCTIONS):
            return LuaError(
                kind: .instructionLimit, chunk: errorChunk, line: site?.line,
                message: "instruction limit of \(limits.instructions) exceeded", traceback: site?.traceback)
        case Int32(ORBIT_LIMIT_DEADLINE):
            let deadline = limits.deadline.map { "\($0)" } ?? "none"
            return LuaError(
                kind: .deadline, chunk: errorChunk, line: site?.line, message: "deadline of \(deadline) exceeded",
                traceback: site?.traceback)
        default:
            break
        }
        switch status {
        case LUA_ERRMEM:
            return LuaError(
                kind: .memoryLimit, chunk: errorChunk,
                message: "memory limit of \(Self.formatBytes(limits.memoryBytes)) exceeded")
        case LUA_ERRERR:
            return LuaError(
                kind: .stackOverflow, chunk: errorChunk, line: site?.line,
                message: "error while handling an error (stack overflow)")
        default:
            let message = site?.message ?? describeErrorValue(at: -1)
            // Lua says "stack overflow" (or "C stack overflow"); a nested call's overflow arrives re-raised as text.
            let isOverflow = message.hasSuffix("stack overflow") || message.contains("C stack overflow")
                || message.hasSuffix("stack overflow (recursion too deep)")
            return LuaError(
                kind: isOverflow ? .stackOverflow : .runtime, chunk: errorChunk, line: site?.line,
                message: isOverflow ? "stack overflow (recursion too deep)" : message, traceback: site?.traceback)
        }
    }

    static func formatBytes(_ bytes: Int) -> String {
        if bytes >= 1 << 20, bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
        if bytes >= 1 << 10, bytes % (1 << 10) == 0 { return "\(bytes >> 10) KiB" }
        return "\(bytes) bytes"
    }

    /// The error value at `index` as text, without calling any metamethod (a hostile `__tostring` never runs).
    func describeErrorValue(at index: Int32) -> String {
        switch lua_type(L, index) {
        case LUA_TSTRING, LUA_TNUMBER:
            var length = 0
            guard let bytes = lua_tolstring(L, index, &length) else { return "(error object is not a string)" }
            return String(decoding: UnsafeRawBufferPointer(start: bytes, count: length), as: UTF8.self)
        case LUA_TNIL:
            return "nil"
        default:
            return "(error object is a \(String(cString: lua_typename(L, lua_type(L, index)))) value)"
        }
    }

    // MARK: - Loading

    /// Compiles `source` as a text chunk named `chunkName` with a fresh environment over the sandbox base, leaving
    /// the function on the stack.
    func loadChunk(_ source: String, chunkName: String) throws(LuaError) {
        try compile(source, chunkname: "=" + chunkName)
        pushFreshEnvironment()
        _ = lua_setupvalue(L, -2, 1)
    }

    /// Compiles trusted host Lua (the sandbox bootstrap) with the real globals as its environment.
    func loadTrusted(_ source: String, chunkName: String) throws(LuaError) {
        try compile(source, chunkname: "=" + chunkName, trusted: true)
    }

    /// Compiles a text chunk within the source-size limit (unless `trusted`) and the memory cap, leaving the function
    /// on the stack. `chunkname` is Lua's (`=name` for a name used as is).
    func compile(_ source: String, chunkname: String, trusted: Bool = false) throws(LuaError) {
        let displayName = chunkname.hasPrefix("=") || chunkname.hasPrefix("@") ? String(chunkname.dropFirst()) : chunkname
        let size = source.utf8.count
        guard trusted || size <= limits.sourceBytes else {
            throw LuaError(
                kind: .sourceTooLarge, chunk: displayName,
                message: "source is \(Self.formatBytes(size)), more than the limit of "
                    + Self.formatBytes(limits.sourceBytes))
        }
        let block = limitsBlock
        let savedHostDepth = block.pointee.host_depth
        block.pointee.host_depth = 0  // compiling counts against the memory cap
        var source = source
        let status = source.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                luaL_loadbufferx(L, chars.baseAddress, chars.count, chunkname, "t")
            }
        }
        block.pointee.host_depth = savedHostDepth
        guard status == LUA_OK else {
            let message = describeErrorValue(at: -1)
            orbit_pop(L, 1)
            if status == LUA_ERRMEM {
                throw LuaError(
                    kind: .memoryLimit, chunk: displayName,
                    message: "memory limit of \(Self.formatBytes(limits.memoryBytes)) exceeded while compiling")
            }
            throw Self.syntaxError(message, chunkName: displayName)
        }
    }

    /// Chunk and current line of the function `level` frames up (1: the caller of the running host function).
    func location(atLevel level: Int32) -> (chunk: String, line: Int)? {
        var record = lua_Debug()
        guard lua_getstack(L, level, &record) != 0, lua_getinfo(L, "Sl", &record) != 0, record.currentline > 0,
            let source = record.source
        else { return nil }
        var chunk = String(cString: source)
        if chunk.hasPrefix("=") || chunk.hasPrefix("@") { chunk.removeFirst() }
        return (chunk, Int(record.currentline))
    }

    /// Whether the call stack has a frame `level` up (a C function has one but no location).
    func hasFrame(atLevel level: Int32) -> Bool {
        var record = lua_Debug()
        return lua_getstack(L, level, &record) != 0
    }

    /// The chunk of the innermost Lua function on the call stack (for `print`).
    func callerChunk() -> String? {
        var record = lua_Debug()
        var level: Int32 = 1
        while lua_getstack(L, level, &record) != 0 {
            _ = lua_getinfo(L, "S", &record)
            if let source = record.source, source.pointee == CChar(UInt8(ascii: "=")) || source.pointee == CChar(UInt8(ascii: "@")) {
                return String(cString: source + 1)
            }
            level += 1
        }
        return nil
    }

    /// Pushes a new, empty global table whose reads fall through to the frozen base.
    func pushFreshEnvironment() {
        lua_createtable(L, 0, 4)
        pushReference(environmentMetatableRef)
        _ = lua_setmetatable(L, -2)
    }

    /// Splits Lua's `name:line: message` into its parts.
    static func syntaxError(_ message: String, chunkName: String) -> LuaError {
        let (line, rest) = splitLocation(message, chunk: chunkName)
        return LuaError(kind: .syntax, chunk: chunkName, line: line, message: rest)
    }

    /// Lua prefixes messages with the chunk's short name (at most LUA_IDSIZE - 1 bytes) and the line.
    static func splitLocation(_ message: String, chunk: String) -> (line: Int?, message: String) {
        let shortName = String(decoding: chunk.utf8.prefix(Int(LUA_IDSIZE) - 1), as: UTF8.self)
        guard message.hasPrefix(shortName + ":") else { return (nil, message) }
        let afterName = message.dropFirst(shortName.count + 1)
        let digits = afterName.prefix(while: \.isNumber)
        guard let line = Int(digits), afterName.dropFirst(digits.count).hasPrefix(": ") else { return (nil, message) }
        return (line, String(afterName.dropFirst(digits.count + 2)))
    }
}
