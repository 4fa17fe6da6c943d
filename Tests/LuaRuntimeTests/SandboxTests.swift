import Logging
import LuaRuntime
import Testing

@Suite("The sandbox")
struct SandboxTests {
    @Test(
        "forbidden globals and functions are absent",
        arguments: [
            "io", "os", "package", "require", "debug", "dofile", "loadfile", "collectgarbage", "rawset",
            "coroutine", "string.dump", "math.randomseed", "_G",
        ])
    func forbiddenGlobalIsAbsent(name: String) throws {
        let lua = try makeState()
        #expect(try lua.run("return \(name) == nil", chunkName: "probe.lua") == [true])
    }

    @Test("the safe libraries are there")
    func safeLibrariesPresent() throws {
        let lua = try makeState()
        let values = try lua.run(
            """
            return string.format("%05.1f", 3.14159), table.concat({"a", "b"}, "-"), math.floor(2.7),
              utf8.char(72, 105), select("#", 1, 2, 3), tostring(nil), ("%d items"):format(3)
            """, chunkName: "libs.lua")
        #expect(values == ["003.1", "a-b", 2, "Hi", 3, "nil", "3 items"])
    }

    @Test("table functions keep Lua's semantics")
    func tableFunctions() throws {
        let lua = try makeState()
        let values = try lua.run(
            """
            local t = {3, 1, 2}
            table.insert(t, 4)
            table.insert(t, 1, 0)
            local removed = table.remove(t, 2)
            table.sort(t)
            local moved = table.move({1, 2, 3}, 1, 3, 2)
            return table.concat(t, ","), removed, table.concat(moved, ","), table.unpack({7, 8})
            """, chunkName: "tables.lua")
        #expect(values == ["0,1,2,4", 3, "1,1,2,3", 7, 8])
        let error = expectFailure(lua, "table.insert({}, 5, 1)")
        #expect(error?.message == "bad argument #2 to 'insert' (position out of bounds)")
    }

    @Test("each chunk has its own globals")
    func chunksAreIsolated() throws {
        let lua = try makeState()
        try lua.run("threshold = 500", chunkName: "rules/a.lua")
        #expect(try lua.run("return threshold", chunkName: "rules/b.lua") == [.nil])
        #expect(try lua.run("return threshold", chunkName: "rules/a.lua") == [.nil])
    }

    @Test("shared tables are read-only", arguments: ["string.upper = nil", "math.pi = 3", "table.x = 1", "utf8.y = 2"])
    func sharedTablesAreReadOnly(assignment: String) throws {
        let lua = try makeState()
        let error = expectFailure(lua, assignment, chunk: "rules/evil.lua")
        #expect(error?.message.hasPrefix("attempt to modify read-only table") == true)
        #expect(error?.line == 1)
    }

    @Test("a read-only view reads, counts and iterates like its table, and refuses every change", arguments: [false, true])
    func readOnlyViews(nested: Bool) throws {
        let lua = try makeState()
        let fields: [LuaValue: LuaValue] = ["id": "e-1", "total": 4999, "items": nested ? .array(["a", "b"]) : .nil]
        let view = try lua.reference(to: .map(fields), name: "event")
        let inspect = try loadFunction(
            lua,
            """
            function(e)
              local keys = {}
              for key in pairs(e) do keys[#keys + 1] = key end
              table.sort(keys)
              return e.id, e.total, table.concat(keys, ","), getmetatable(e), rawget(e, "id"), #(e.items or {})
            end
            """)
        let values = try lua.call(inspect) { $0.push(view) } results: { results in
            try (1...6).map { try results.value(at: $0) }
        }
        #expect(values == ["e-1", 4999, nested ? "id,items,total" : "id,total", false, .nil, nested ? 2 : 0])
        let writes = ["e.total = 0", "e.new = 1", "local k = next(e) e[k] = 1"] + (nested ? ["e.items[1] = 'z'"] : [])
        for write in writes {
            let error = #expect(throws: LuaError.self) {
                try lua.call(try loadFunction(lua, "function(e) \(write) end")) { $0.push(view) } results: { _ in () }
            }
            #expect(error?.message.hasPrefix("attempt to modify read-only table 'event") == true, "\(write)")
            #expect(error?.line == 1)
        }
    }

    @Test("one chunk cannot poison the string metatable for another")
    func stringMetatablePoisoning() throws {
        let lua = try makeState()
        _ = expectFailure(lua, "getmetatable('').__index.upper = function() return 'pwned' end")
        _ = expectFailure(lua, "string.upper = function() return 'pwned' end")
        _ = expectFailure(lua, "setmetatable(getmetatable(''), {})")
        #expect(try lua.run("return getmetatable('')", chunkName: "a.lua") == [false])
        #expect(try lua.run("return ('abc'):upper(), string.upper('x')", chunkName: "b.lua") == ["ABC", "X"])
    }

    @Test("the global table of a chunk cannot reach the shared base")
    func environmentIsLocked() throws {
        let lua = try makeState()
        #expect(try lua.run("return getmetatable(_ENV)", chunkName: "a.lua") == [false])
        let error = expectFailure(lua, "setmetatable(_ENV, nil)")
        #expect(error?.message == "cannot change a protected metatable")
    }

    @Test("bytecode cannot be loaded; text chunks load into their own environment")
    func noBytecode() throws {
        let lua = try makeState()
        let dumpError = expectFailure(lua, "return string.dump(function() end)")
        #expect(dumpError?.message.contains("attempt to call a nil value (field 'dump')") == true)
        let modeError = expectFailure(lua, "return load('return 1', 'x', 'b')")
        #expect(modeError?.message == "bad argument #3 to 'load' (only text chunks (mode 't') can be loaded)")
        let binary = try lua.run("return load('\\27Lua\\84\\0\\25\\147', 'bin')", chunkName: "bin.lua")
        #expect(binary.first == .nil)
        #expect(binary.last?.stringValue?.contains("attempt to load a binary chunk") == true)
        let loaded = try lua.run("local f = load('x = 5 return x') return f(), x", chunkName: "load.lua")
        #expect(loaded == [5, .nil])
    }

    @Test("rule code cannot install a finalizer")
    func noFinalizers() throws {
        let lua = try makeState()
        let error = expectFailure(lua, "setmetatable({}, { __gc = function() while true do end end })")
        #expect(error?.message == "bad argument #2 to 'setmetatable' (__gc metamethods are not allowed in rules)")
        // A placeholder __gc set before setmetatable would mark the object; adding one later has no effect.
        let later = try lua.run(
            "local mt = {} local t = setmetatable({}, mt) mt.__gc = function() while true do end end return 1",
            chunkName: "gc.lua")
        #expect(later == [1])
        let placeholder = expectFailure(lua, "setmetatable({}, { __gc = true })")
        #expect(placeholder?.kind == .runtime)
    }

    @Test("print goes to the host's logger with the chunk name, not to stdout")
    func printGoesToLogger() throws {
        let handler = CapturingLogHandler()
        let lua = try makeState(logger: Logger(label: "test", factory: { _ in handler }))
        try lua.run("print('points', 120, true, nil)", chunkName: "rules/points.lua")
        #expect(handler.messages == ["rules/points.lua: points\t120\ttrue\tnil"])
    }

    @Test("math.random is deterministic for a new state")
    func deterministicRandom() throws {
        let first = try makeState().run("return math.random(1, 1000000)", chunkName: "r.lua")
        let second = try makeState().run("return math.random(1, 1000000)", chunkName: "r.lua")
        #expect(first == second)
    }
}
