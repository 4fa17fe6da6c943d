import LuaRuntime
import Testing

/// Escape attempts: each is contained with the right kind of error, and the state answers the next call.
@Suite("Limits contain hostile rules", .timeLimit(.minutes(2)))
struct LimitTests {
    /// Small limits keep the suite fast; they are still far above what a real rule needs.
    static let limits = LuaLimits(instructions: 2_000_000, memoryBytes: 8 << 20)

    private func expectContained(
        _ source: String, kind: LuaError.Kind, limits: LuaLimits = Self.limits,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> LuaError? {
        let lua = try makeState(limits: limits)
        let error = expectFailure(lua, source, chunk: "rules/hostile.lua")
        #expect(error?.kind == kind, "\(String(describing: error))", sourceLocation: sourceLocation)
        #expect(error?.chunk == "rules/hostile.lua", sourceLocation: sourceLocation)
        // The state is still usable, and under its normal limits again.
        #expect(
            try lua.run("local s = 0 for i = 1, 1000 do s = s + i end return s", chunkName: "after.lua") == [500500],
            sourceLocation: sourceLocation)
        return error
    }

    @Test("an infinite loop hits the instruction limit")
    func infiniteLoop() throws {
        let error = try expectContained("while true do end", kind: .instructionLimit)
        #expect(error?.description == "rules/hostile.lua:1: instruction limit of 2000000 exceeded")
    }

    @Test("an infinite loop inside pcall, inside a loop, cannot swallow the limit")
    func pcallCannotSwallowTheLimit() throws {
        _ = try expectContained(
            """
            local caught = 0
            while true do
              local ok = pcall(function() while true do end end)
              if not ok then caught = caught + 1 end
            end
            """, kind: .instructionLimit)
        _ = try expectContained(
            "for i = 1, 1e9 do xpcall(function() while true do end end, function() while true do end end) end",
            kind: .instructionLimit)
    }

    @Test("deep recursion is a stack overflow")
    func deepRecursion() throws {
        let error = try expectContained(
            "local function dive(n) return 1 + dive(n + 1) end return dive(1)", kind: .stackOverflow,
            limits: LuaLimits(instructions: 100_000_000, memoryBytes: 256 << 20))
        #expect(error?.message == "stack overflow (recursion too deep)")
    }

    @Test("unbounded recursion through metamethods or pcall is bounded too")
    func recursionThroughC() throws {
        _ = try expectContained(
            "local t = setmetatable({}, {}) getmetatable(t).__index = function(t, k) return t[k] end return t.x",
            kind: .stackOverflow)
        _ = try expectContained(
            "local function f() local ok, err = pcall(f) error(err, 0) end f()", kind: .stackOverflow)
    }

    @Test("a string.rep bomb hits the memory cap")
    func stringRepBomb() throws {
        let error = try expectContained("return string.rep('x', 1 << 30)", kind: .memoryLimit)
        #expect(error?.message == "memory limit of 8 MiB exceeded")
        _ = try expectContained("return ('abc'):rep(100000, ('y'):rep(100))", kind: .memoryLimit)
    }

    @Test("an empty string repeated forever is answered without spinning")
    func emptyRep() throws {
        let lua = try makeState(limits: Self.limits)
        #expect(try lua.run("return #string.rep('', math.maxinteger)", chunkName: "rep.lua") == [0])
    }

    @Test("table growth hits the memory cap")
    func tableGrowth() throws {
        _ = try expectContained(
            "local t = {} local i = 0 while true do i = i + 1 t[i] = {i, i, i, i} end", kind: .memoryLimit)
    }

    @Test("string doubling hits the memory cap")
    func stringDoubling() throws {
        _ = try expectContained("local s = 'x' while true do s = s .. s end", kind: .memoryLimit)
    }

    @Test("a memory error caught by pcall does not let the rule past its budget")
    func memoryErrorInsidePcall() throws {
        _ = try expectContained(
            "while true do pcall(function() local s = 'x' while true do s = s .. s end end) end",
            kind: .instructionLimit)
    }

    @Test("a catastrophic pattern is stopped by the instruction budget")
    func catastrophicPattern() throws {
        let error = try expectContained(
            "return string.rep('a', 5000):find('.-.-.-.-.-.-.-b')", kind: .instructionLimit)
        #expect(error?.line == 1)
        _ = try expectContained(
            "local s = ('a'):rep(3000) return s:gsub('(a-)(a-)(a-)(a-)b', '%1')", kind: .instructionLimit)
        _ = try expectContained(
            "for w in ('a'):rep(3000):gmatch('a-a-a-a-a-b') do end", kind: .instructionLimit)
    }

    @Test("work done in C without allocating is charged: sorting, shifting, moving")
    func chargedCWork() throws {
        _ = try expectContained(
            "local t = {} for i = 1, 20000 do t[i] = i end while true do table.insert(t, 1, 0) table.remove(t, 1) end",
            kind: .instructionLimit)
        _ = try expectContained("table.move({}, 1, math.maxinteger // 2, 2)", kind: .instructionLimit)
        let sorting = try makeState(limits: Self.limits)
        let error = expectFailure(sorting, "table.sort(setmetatable({}, { __len = function() return 1 << 40 end }))")
        #expect(error?.message == "bad argument #1 to 'sort' (tables with metatables cannot be sorted in rules)")
    }

    @Test("a deadline stops a call that runs too long in wall-clock time")
    func deadline() throws {
        let error = try expectContained(
            "while true do end", kind: .deadline,
            limits: LuaLimits(instructions: Int.max, deadline: .milliseconds(50)))
        #expect(error?.message == "deadline of 0.05 seconds exceeded")
    }

    @Test("a source larger than the limit is refused before compiling")
    func sourceTooLarge() throws {
        let lua = try makeState(limits: LuaLimits(sourceBytes: 1024))
        let source = "return '" + String(repeating: "x", count: 2000) + "'"
        let error = #expect(throws: LuaError.self) { try lua.load(source, chunkName: "rules/big.lua") }
        #expect(error?.kind == .sourceTooLarge)
        #expect(error?.description == "rules/big.lua: source is 2009 bytes, more than the limit of 1 KiB")
        let nested = expectFailure(lua, "return load(string.rep(' ', 4096))")
        #expect(nested == nil)
        #expect(try lua.run("return load(string.rep(' ', 4096))", chunkName: "l.lua").last?.stringValue?.contains("more than the limit") == true)
    }

    @Test("the host pushing a large value at the memory cap never aborts the process")
    func hostPushesAtTheCap() throws {
        let lua = try makeState(limits: LuaLimits(memoryBytes: 2 << 20))
        lua.register(function: "catalogue") { stack in
            stack.push(.array((1...50_000).map { .string("sku-\($0)") }))
        }
        let error = expectFailure(lua, "local c = catalogue() local copy = {} for i = 1, #c do copy[i] = c[i] .. '!' end")
        #expect(error?.kind == .memoryLimit)
        #expect(try lua.run("return 'still here'", chunkName: "after.lua") == ["still here"])
    }

    @Test("a gsub whose result would pass the cap raises a memory error")
    func gsubResultAtTheCap() throws {
        _ = try expectContained("local s = ('x'):rep(100000) return s:gsub('x', ('y'):rep(100))", kind: .memoryLimit)
    }

    @Test("the instruction budget is per call, not per state")
    func budgetIsPerCall() throws {
        let lua = try makeState(limits: LuaLimits(instructions: 100_000))
        let loop = try loadFunction(lua, "function() local s = 0 for i = 1, 10000 do s = s + i end return s end")
        for _ in 0..<50 { #expect(try lua.call(loop) == [50_005_000]) }
    }
}
