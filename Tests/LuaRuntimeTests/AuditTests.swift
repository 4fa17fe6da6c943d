import Foundation
import Logging
@testable import LuaRuntime
import Synchronization
import Testing

/// Set AUDIT_BUGS=1 to run the tests that document confirmed bugs (they fail, and two of them crash the process).

/// Resident set size of this process in bytes (Linux), for proving that Swift-side copies escape the memory cap.
private func residentBytes() -> Int64 {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        let digits = line.filter(\.isNumber)
        return (Int64(digits) ?? 0) * 1024
    }
    return 0
}


/// Runs `source` and returns how long it took and how it failed (nil when it succeeded).
private func timed(_ lua: LuaState, _ source: String) -> (seconds: Double, error: LuaError?) {
    let clock = ContinuousClock()
    var error: LuaError?
    let elapsed = clock.measure { error = expectFailure(lua, source, chunk: "rules/audit.lua") }
    let (seconds, attoseconds) = elapsed.components
    return (Double(seconds) + Double(attoseconds) / 1e18, error)
}

/// Counts live instances, to detect Swift frames skipped by a longjmp (their locals are never released).
final class AuditTracked {
    static let live = Atomic<Int>(0)
    init() { Self.live.add(1, ordering: .relaxed) }
    deinit { Self.live.subtract(1, ordering: .relaxed) }
}

@Suite("Audit", .timeLimit(.minutes(1)), .serialized)
struct AuditTests {
    // MARK: - Confirmed bugs (disabled so the suite stays green; AUDIT_BUGS=1 runs them)
    //
    // Three tests below (nested constants, setGlobal after a limit, setGlobal from a host function) documented bugs
    // of the committed code that the working tree has since fixed (deep read-only, makeReadOnly in a protected call);
    // they stay enabled as regression tests.

    @Test(
        "pairs() on a read-only library proxy does not hand out the shared table")
    func pairsDoesNotLeakSharedTables() throws {
        let lua = try makeState()
        // Rule A grabs the raw `string` library table (also the string metatable's __index) and poisons it.
        _ = try? lua.run(
            "local _, raw = pairs(string) raw.upper = function() return 'pwned' end", chunkName: "rules/a.lua")
        // Rule B, another chunk, is affected.
        #expect((try? lua.run("return ('abc'):upper(), string.upper('x')", chunkName: "rules/b.lua")) == ["ABC", "X"])
        _ = try? lua.run("local _, raw = pairs(math) raw.floor = nil", chunkName: "rules/a.lua")
        #expect((try? lua.run("return math.floor(2.5)", chunkName: "rules/b.lua")) == [2])
        // The same leak defeats read-only constants (setGlobal, LuaState.reference(to:)).
        try lua.setGlobal("config", ["max": 1])
        _ = try? lua.run("local _, raw = pairs(config) raw.max = 99", chunkName: "rules/a.lua")
        #expect((try? lua.run("return config.max", chunkName: "rules/b.lua")) == [1])
    }

    @Test(
        "tables nested in a global constant are read-only too")
    func nestedGlobalTablesAreReadOnly() throws {
        let lua = try makeState()
        try lua.setGlobal("config", ["limits": ["max": 1]])
        let error = expectFailure(lua, "config.limits.max = 99", chunk: "rules/a.lua")
        #expect(error?.message.hasPrefix("attempt to modify read-only table") == true)
        #expect(try lua.run("return config.limits.max", chunkName: "rules/b.lua") == [1])
    }

    @Test(
        "string.rep of an empty string with a float or string count does not spin in C")
    func repEmptyWithFloatCount() throws {
        let lua = try makeState(limits: LuaLimits(instructions: 10_000))
        // 1e9 iterations take seconds; 2^53 would take months, and no hook or deadline can stop it.
        for source in ["return #string.rep('', 1e9)", "return #string.rep('', '1000000000')"] {
            let (seconds, error) = timed(lua, source)
            #expect(seconds < 0.2, "\(source) took \(seconds) s")
            #expect(error == nil || error?.kind == .instructionLimit)
        }
    }

    @Test(
        "work charged by a sandbox wrapper cannot overflow the instruction counter")
    func chargeOverflow() throws {
        let lua = try makeState()
        // rep charges a little first, so instructions_used > 1; unpack then charges maxinteger - 1: Swift traps.
        let error = expectFailure(lua, "local s = ('x'):rep(100) return table.unpack({}, 1, math.maxinteger)")
        #expect(error?.kind == .instructionLimit)
    }

    @Test(
        "setGlobal after a call that hit the instruction limit does not abort the process")
    func setGlobalAfterInstructionLimit() throws {
        let lua = try makeState(limits: LuaLimits(instructions: 1_000, hookInterval: 1))
        #expect(expectFailure(lua, "while true do end")?.kind == .instructionLimit)
        // instructions_used is still > instruction_budget: the hook raises inside lua_callk, with no pcall: abort().
        try lua.setGlobal("config", ["max": 1])
        #expect(try lua.run("return config.max", chunkName: "after.lua") == [1])
    }

    @Test(
        "a host function that sets a global while the budget runs out is not unwound by a longjmp")
    func setGlobalFromHostFunctionDuringCall() throws {
        let lua = try makeState(limits: LuaLimits(instructions: 5_000, hookInterval: 1))
        let before = AuditTracked.live.load(ordering: .relaxed)
        lua.register(function: "define") { _ in
            let held = AuditTracked()  // released when this frame returns, never if a longjmp skips the frame
            try lua.setGlobal("constant", ["a": 1])
            _ = held
        }
        let error = expectFailure(lua, "while true do define() end")
        #expect(error?.kind == .instructionLimit)
        #expect(AuditTracked.live.load(ordering: .relaxed) == before, "a Swift frame was skipped by lua_error")
    }

    @Test(
        "gmatch iterators do not keep Swift copies of their subject outside the memory cap")
    func gmatchCopiesEscapeTheCap() throws {
        let lua = try makeState(limits: LuaLimits(memoryBytes: 8 << 20))
        lua.register(function: "rss") { stack in stack.push(residentBytes()) }
        let error = expectFailure(
            lua,
            """
            local s = ('x'):rep(1 << 20)
            local keep = {}
            for i = 1, 200 do keep[i] = s:gmatch('x') end
            """, chunk: "rules/gmatch.lua")
        #expect(error?.kind == .memoryLimit, "the iterators' copies count against the cap")
    }

    @Test(
        "gsub does not build a result far beyond the memory cap before checking it")
    func gsubBuildsUncappedResult() throws {
        let lua = try makeState(limits: LuaLimits(memoryBytes: 8 << 20))
        lua.register(function: "rss") { stack in stack.push(residentBytes()) }
        let grown = try lua.run(
            """
            local r = ('y'):rep(1 << 20)
            local before, peak = rss(), 0
            pcall(string.gsub, ('x'):rep(200), 'x', function()
              peak = math.max(peak, rss())
              return r
            end)
            return peak - before
            """, chunkName: "rules/gsub.lua")
        let bytes = grown.first?.integerValue ?? 0
        #expect(bytes < 32 << 20, "resident memory grew by \(bytes >> 20) MiB under an 8 MiB cap")
    }

    @Test(
        "print does not copy its arguments beyond the memory cap")
    func printCopiesEscapeTheCap() throws {
        let handler = CapturingLogHandler()
        let lua = try makeState(
            limits: LuaLimits(memoryBytes: 8 << 20), logger: Logger(label: "audit", factory: { _ in handler }))
        _ = try? lua.run(
            "local s = ('x'):rep(1 << 20) local t = {} for i = 1, 200 do t[i] = s end print(table.unpack(t))",
            chunkName: "rules/print.lua")
        let longest = handler.messages.map(\.utf8.count).max() ?? 0
        #expect(longest <= 8 << 20, "print built a \(longest >> 20) MiB message")
        #expect(handler.messages.first?.hasSuffix("… (cut at 16 KiB)") == true)
    }

    @Test(
        "a shared table (DAG) returned to the host cannot hang the conversion")
    func sharedSubtablesCannotHangConversion() throws {
        let lua = try makeState()
        // Depth 20 (a million leaves) already takes seconds; depth 40 never finishes and exhausts memory.
        let error = timed(lua, "local t = {} for i = 1, 40 do t = {t, t} end return t").error
        #expect(error?.kind == .conversion)
    }

    /// C functions (or single VM instructions) whose work is proportional to their input but neither allocates nor
    /// is charged: a loop of such calls runs for hours under a small instruction budget. The deadline is only a
    /// backstop so that the test ends; a correctly charged call fails with `.instructionLimit` well before it.
    @Test(
        "work done in C without allocating is charged",
        arguments: [
            "local t = {} for i = 1, 1000000 do t[i] = '' end while true do table.concat(t) end",
            "local s = ('x'):rep(500000) while true do s:byte(1, -1) end",
            "local f = ('i16'):rep(1000000) while true do string.packsize(f) end",
            "local s = ('x'):rep(4 << 20) while true do s:gsub('^y', '') end",
        ])
    func unchargedWork(source: String) throws {
        // Generous, so that a loaded machine running tests in parallel never reaches it before the budget.
        let lua = try makeState(limits: LuaLimits(instructions: 10_000_000, deadline: .seconds(20)))
        let (seconds, error) = timed(lua, source)
        #expect(error?.kind == .instructionLimit, "\(String(describing: error)) after \(seconds) s")
    }

    @Test("a utf8.codes iterator only walks its own, validated string")
    func utf8CodesIterator() throws {
        let lua = try makeState(limits: LuaLimits(instructions: 10_000_000, deadline: .seconds(3)))
        let reused = timed(lua, "local s = ('\\x80'):rep(4 << 20) local next = utf8.codes('a') while true do next(s, 0) end")
        #expect(reused.error?.message == "a utf8.codes iterator walks only the string it was made for")
        let invalid = timed(lua, "for _, c in utf8.codes(('\\x80'):rep(100)) do end")
        #expect(invalid.error?.message == "bad argument #1 to 'codes' (invalid UTF-8 code)")
        #expect(try lua.run("local n = 0 for _, c in utf8.codes('Grüße') do n = n + 1 end return n", chunkName: "u.lua") == [5])
    }

    /// Iterators over a subject held outside Lua's heap: creating them in a loop hits the memory cap (each holds its
    /// copy until collected) or the budget, whichever comes first. Both contain it.
    @Test("a loop creating gmatch iterators over a large subject is contained")
    func gmatchLoop() throws {
        let lua = try makeState(limits: LuaLimits(instructions: 10_000_000, deadline: .seconds(3)))
        let error = timed(lua, "local s = ('x'):rep(4 << 20) while true do s:gmatch('y') end").error
        #expect(error?.kind == .memoryLimit || error?.kind == .instructionLimit, "\(String(describing: error))")
    }

    /// Known limit, documented in docs/sandbox.md: passing a huge vararg list on copies it in one VM instruction.
    /// The instruction budget does not see that copy; the deadline (and the memory cap on the list) bound it.
    @Test("a vararg list copied over and over is stopped by the deadline")
    func varargCopies() throws {
        let lua = try makeState(limits: LuaLimits(instructions: 10_000_000, deadline: .seconds(1)))
        let error = timed(
            lua,
            "local t = {} for i = 1, 400000 do t[i] = i end local function h(...) end "
                + "local function g(...) while true do h(...) end end g(table.unpack(t, 1, 400000))"
        ).error
        #expect(error?.kind == .deadline || error?.kind == .instructionLimit, "\(String(describing: error))")
    }

    @Test(
        "a limit hit inside a nested call keeps its kind")
    func nestedLimitKeepsItsKind() throws {
        let lua = try makeState(limits: LuaLimits(instructions: 2_000_000, memoryBytes: 8 << 20))
        let memory = expectFailure(lua, "return ('abc'):gsub('%w', function() local s = 'x' while true do s = s .. s end end)")
        #expect(memory?.kind == .memoryLimit, "\(String(describing: memory))")
        let overflow = expectFailure(lua, "local function f(s) return (s:gsub('.', f)) end return f('ab')")
        #expect(overflow?.kind == .stackOverflow, "\(String(describing: overflow))")
    }

    // MARK: - Checked and safe

    @Test("recursion Lua -> Swift -> Lua is bounded by the C-stack limit and leaves the state usable")
    func recursionThroughHostFunctions() throws {
        let lua = try makeState(limits: LuaLimits(instructions: 100_000_000))
        lua.register(function: "call") { stack in
            let function = try stack.function(at: 1)
            stack.push(try lua.call(function, .integer(try stack.integer(at: 2) + 1))[0])
        }
        let error = expectFailure(lua, "local function f(n) return call(f, n) end return f(1)")
        #expect(error?.message.contains("stack overflow") == true, "\(String(describing: error))")
        let viaGsub = expectFailure(lua, "local function f(s) return (s:gsub('.', f)) end return f('ab')")
        #expect(viaGsub?.message.contains("stack overflow") == true, "\(String(describing: viaGsub))")
        #expect(try lua.run("return 1", chunkName: "after.lua") == [1])
    }

    @Test("__close handlers run under the tripped limit: they cannot hang or outgrow the cap")
    func closeHandlersAfterALimit() throws {
        let lua = try makeState(limits: LuaLimits(instructions: 200_000, memoryBytes: 8 << 20))
        let loop = expectFailure(
            lua, "local x <close> = setmetatable({}, {__close = function() while true do end end}) while true do end")
        #expect(loop?.kind == .instructionLimit)
        let grow = expectFailure(
            lua,
            """
            local x <close> = setmetatable({}, {__close = function() local s = 'x' while true do s = s .. s end end})
            local s = 'x' while true do s = s .. s end
            """)
        #expect(grow?.kind == .memoryLimit)
        #expect(try lua.run("return 1", chunkName: "after.lua") == [1])
    }

    @Test("__tostring and __name: loops are interrupted, recursion overflows, names need no metamethod")
    func toStringMetamethods() throws {
        let lua = try makeState(limits: LuaLimits(instructions: 200_000))
        let loop = expectFailure(
            lua, "return string.format('%s', setmetatable({}, {__tostring = function() while true do end end}))")
        #expect(loop?.kind == .instructionLimit)
        let recursion = expectFailure(
            lua, "local t = setmetatable({}, {__tostring = function(t) return tostring(t) end}) return tostring(t)")
        #expect(recursion?.kind == .stackOverflow)
        let named = try lua.run(
            "local t = setmetatable({}, {__name = 'X'}) return tostring(t):sub(1, 3), ('%s'):format(t):sub(1, 3)",
            chunkName: "name.lua")
        #expect(named == ["X: ", "X: "])
    }

    @Test("a __gc reachable only through the metatable's own __index is never installed")
    func gcThroughIndexIsNotAFinalizer() throws {
        let lua = try makeState(limits: LuaLimits(instructions: 2_000_000))
        let result = try lua.run(
            """
            local mt = setmetatable({}, {__index = {__gc = function() while true do end end}})
            for i = 1, 1000 do setmetatable({}, mt) end
            local junk = {} for i = 1, 20000 do junk[i] = {i} end
            return 1
            """, chunkName: "gc.lua")
        #expect(result == [1])
        // Allocation-driven collections and lua_close (when `lua` goes) would hang here if the finalizer were set.
        #expect(try lua.run("local t = {} for i = 1, 50000 do t[i] = {} end return #t", chunkName: "g.lua") == [50000])
    }

    @Test("metamethod errors inside C library calls and gsub replacements surface as Lua errors")
    func metamethodErrorsInLibraryCalls() throws {
        let lua = try makeState(limits: LuaLimits(instructions: 200_000))
        let concat = expectFailure(
            lua, "return table.concat(setmetatable({}, {__index = function(t, i) error('boom ' .. i) end}), ',', 1, 3)")
        #expect(concat?.message == "boom 1")
        let table = expectFailure(
            lua, "return ('abc'):gsub('%w', setmetatable({}, {__index = function(t, k) error('nope ' .. k) end}))")
        #expect(table?.message == "nope a")
        let spin = expectFailure(
            lua, "return ('abc'):gsub('%w', setmetatable({}, {__index = function() while true do end end}))")
        #expect(spin?.kind == .instructionLimit)
        #expect(
            try lua.run("return pcall(string.gsub, 'abc', '%w', function() error({}) end)", chunkName: "g.lua")
                == [false, "g.lua:1: (error object is a table value)"])
    }

    @Test("a huge error string at the memory cap is a memory error, not a crash")
    func hugeErrorValue() throws {
        let lua = try makeState(limits: LuaLimits(memoryBytes: 8 << 20))
        #expect(expectFailure(lua, "error(('x'):rep(4 << 20))")?.kind == .memoryLimit)
        let big = try makeState(limits: LuaLimits(memoryBytes: 64 << 20))
        let error = expectFailure(big, "error(('x'):rep(4 << 20), 0)")
        #expect(error?.kind == .runtime)
        #expect(error?.message.utf8.count == 4 << 20)
    }

    @Test("a finalized host object still reachable as a weak key reads as nil and rejects method calls")
    func finalizedHostObjectInWeakTable() throws {
        final class Thing { let id = "t1" }
        let lua = try makeState(limits: LuaLimits(instructions: 100_000_000))
        let thingType = LuaObjectType<Thing>(name: "thing")
        thingType.field("id") { .string($0.id) }
        thingType.method("hello") { _, stack in stack.push("hi") }
        lua.register(thingType)
        let chunk = try lua.load(
            """
            local W = setmetatable({}, {__mode = 'k'})
            return function(o) W[o] = true end, function()
              local seen = {}
              for round = 1, 200000 do
                local junk = {}
                for k in pairs(W) do
                  local ok, id = pcall(function() return k.id end)
                  local status = tostring(ok) .. ',' .. tostring(id) .. ',' .. tostring(select(2, pcall(k.hello, k)))
                  if seen[#seen] ~= status then seen[#seen + 1] = status end
                end
              end
              return seen
            end
            """, chunkName: "weak.lua")
        let (keep, probe) = try lua.call(chunk) { _ in } results: { (try $0.function(at: 1), try $0.function(at: 2)) }
        try lua.call(keep) { $0.push(Thing(), as: thingType) } results: { _ in () }
        let seen = try lua.call(probe)
        #expect(seen.first?[1] == "true,t1,hi")
        // After __gc released the Swift object, Lua's weak-key rule keeps the userdata one more cycle: reading it
        // is an error that says so, never a crash.
        if case .array(let statuses) = seen.first ?? .nil, statuses.count > 1, case .string(let status) = statuses[1] {
            #expect(status.hasPrefix("false,"))
            #expect(status.components(separatedBy: "this thing is no longer available").count == 3)
        }
    }

    @Test("a LuaFunction may outlive its LuaState; the Lua state closes when the last one goes")
    func functionOutlivesState() throws {
        let before = AuditTracked.live.load(ordering: .relaxed)
        var function: LuaFunction?
        do {
            let lua = try makeState()
            let held = AuditTracked()
            lua.register(function: "hold") { stack in _ = held; stack.push(Int64(1)) }
            function = try loadFunction(lua, "function() return hold() end")
            #expect(try lua.call(function!) == [1])
        }
        #expect(AuditTracked.live.load(ordering: .relaxed) == before + 1)  // the state's core is still alive
        function = nil
        #expect(AuditTracked.live.load(ordering: .relaxed) == before)  // lua_close ran the host function's __gc
    }

    @Test("a gmatch iterator kept across calls obeys the budget of the call that resumes it")
    func gmatchAcrossCalls() throws {
        let lua = try makeState(limits: LuaLimits(instructions: 1_000_000))
        let chunk = try lua.load(
            "local it = (('a'):rep(200000) .. 'x'):gmatch('x') return function() return it() end",
            chunkName: "it.lua")
        let next = try lua.call(chunk) { _ in } results: { try $0.function(at: 1) }
        lua.limits = LuaLimits(instructions: 10_000)
        #expect(#expect(throws: LuaError.self) { try lua.call(next) }?.kind == .instructionLimit)
        lua.limits = LuaLimits(instructions: 10_000_000)
        #expect(try lua.call(next) == ["x"])  // the interrupted search is retried from where it was
        #expect(try lua.call(next) == [.nil])
    }

    @Test("compiling a huge source at the memory cap fails cleanly, at top level and through load")
    func compilingAtTheCap() throws {
        let lua = try makeState(limits: LuaLimits(memoryBytes: 2 << 20, sourceBytes: 4 << 20))
        let source = "return {" + String(repeating: "1,", count: 600_000) + "}"
        let error = #expect(throws: LuaError.self) { try lua.load(source, chunkName: "big.lua") }
        #expect(error?.kind == .memoryLimit)
        // Building the source may already hit the cap; either way the failure is a clean memory error.
        do {
            let nested = try lua.run("return load('return {' .. ('1,'):rep(400000) .. '}')", chunkName: "n.lua")
            #expect(nested.first == .nil)
            #expect(nested.last?.stringValue?.contains("memory limit") == true)
        } catch {
            #expect(error.kind == .memoryLimit)
        }
        #expect(try lua.run("return 1", chunkName: "after.lua") == [1])
    }
}
