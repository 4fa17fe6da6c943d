import LuaRuntime
import Testing

@Suite("Errors carry their location")
struct ErrorTests {
    @Test("a syntax error names the file and line")
    func syntaxError() throws {
        let lua = try makeState()
        let error = #expect(throws: LuaError.self) {
            try lua.load("local x = 1\nif x then\n  return x +\nend", chunkName: "rules/vip.lua")
        }
        #expect(error?.kind == .syntax)
        #expect(error?.chunk == "rules/vip.lua")
        #expect(error?.line == 4)
        #expect(error?.description == "rules/vip.lua:4: unexpected symbol near 'end'")
    }

    @Test("a runtime error names the file and line, with a traceback")
    func runtimeError() throws {
        let lua = try makeState()
        let source = """
            local function points(c)
              return c.total * 2
            end
            local total = points({})
            return total
            """
        let error = expectFailure(lua, source, chunk: "rules/points.lua")
        #expect(error?.kind == .runtime)
        #expect(error?.chunk == "rules/points.lua")
        #expect(error?.line == 2)
        #expect(error?.message == "attempt to perform arithmetic on a nil value (field 'total')")
        #expect(error?.traceback?.contains("rules/points.lua:4:") == true, "\(error?.traceback ?? "")")
    }

    @Test("error() with a level points at the caller's line")
    func errorWithLevel() throws {
        let lua = try makeState()
        let source = """
            local function need(x)
              if not x then error("x is required", 2) end
            end
            need(nil)
            """
        let error = expectFailure(lua, source, chunk: "rules/need.lua")
        #expect(error?.description == "rules/need.lua:4: x is required")
    }

    @Test("a long chunk name is kept whole in the error")
    func longChunkName() throws {
        let lua = try makeState()
        let name = "rules/" + String(repeating: "segment-", count: 12) + "vip.lua"
        let error = expectFailure(lua, "\nlocal x = nil + 1", chunk: name)
        #expect(error?.chunk == name)
        #expect(error?.line == 2)
    }

    @Test("a non-string error value is described without running its metamethods")
    func tableErrorValue() throws {
        let lua = try makeState()
        let error = expectFailure(lua, "error({ code = 42 })")
        #expect(error?.message == "(error object is a table value)")
        #expect(error?.line == 1)
    }

    @Test("an error value with a hostile __tostring cannot hang or crash the host")
    func hostileToString() throws {
        let lua = try makeState()
        let error = expectFailure(
            lua, "error(setmetatable({}, { __tostring = function() while true do end end }))")
        #expect(error?.kind == .runtime)
        #expect(error?.message == "(error object is a table value)")
        #expect(try lua.run("return 1", chunkName: "after.lua") == [1])
    }

    @Test("a function called with wrong arguments names itself and the argument")
    func standardLibraryArgumentError() throws {
        let lua = try makeState()
        let error = expectFailure(lua, "return ('x'):rep('many')")
        #expect(error?.message.contains("to 'rep' (number expected, got string)") == true)
        #expect(error?.chunk == "rules/test.lua")
    }
}
