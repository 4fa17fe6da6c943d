import LuaRuntime
import Testing

@Suite("Values across the boundary")
struct ValueTests {
    @Test(
        "scalars round-trip unchanged",
        arguments: [
            LuaValue.nil, true, false, 0, 42, -7, .integer(.max), .integer(.min), 0.5, -1.25, 1e300,
            .number(.infinity), "", "hello", "Grüße, 世界", "with\0nul", "line\nbreak",
        ] as [LuaValue])
    func scalarsRoundTrip(value: LuaValue) throws {
        let lua = try makeState()
        let echo = try lua.load("return ...", chunkName: "echo.lua")
        #expect(try lua.call(echo, value) == [value])
    }

    @Test("integers stay integers and floats stay floats")
    func integerAndFloatStayDistinct() throws {
        let lua = try makeState()
        let values = try lua.run("return 3, 3.0, 7 // 2, 7 / 2, math.type(2^53)", chunkName: "numbers.lua")
        #expect(values == [.integer(3), .number(3.0), .integer(3), .number(3.5), .string("float")])
        let types = try lua.load("return math.type(...)", chunkName: "types.lua")
        #expect(try lua.call(types, .integer(5)) == ["integer"])
        #expect(try lua.call(types, .number(5)) == ["float"])
    }

    @Test("tables become arrays and maps, nested, and go back as tables")
    func tablesRoundTrip() throws {
        let lua = try makeState()
        let nested: LuaValue = [
            "name": "Anna", "tags": ["vip", "newsletter"], "orders": 3,
            "address": ["city": "Berlin", "zip": "10115"], "score": 0.75,
        ]
        let echo = try lua.load("return ...", chunkName: "echo.lua")
        #expect(try lua.call(echo, nested) == [nested])
        let inspect = try lua.load(
            "local c = ... return c.address.city, #c.tags, c.tags[2], c.orders + 1", chunkName: "inspect.lua")
        #expect(try lua.call(inspect, nested) == ["Berlin", 2, "newsletter", 4])
    }

    @Test("a table with holes or mixed keys is a map; an empty table is an empty map")
    func mixedTables() throws {
        let lua = try makeState()
        let values = try lua.run("return {1, 2, n = 2}, {[1] = 'a', [3] = 'c'}, {}, {[true] = 1}", chunkName: "t.lua")
        #expect(values[0] == .map([1: 1, 2: 2, "n": 2]))
        #expect(values[1] == .map([1: "a", 3: "c"]))
        #expect(values[2] == .map([:]))
        #expect(values[3] == .map([true: 1]))
    }

    @Test("functions and cycles cannot leave Lua as values, with a clear error")
    func unconvertibleValues() throws {
        let lua = try makeState()
        let function = #expect(throws: LuaError.self) { try lua.run("return print", chunkName: "f.lua") }
        #expect(function?.kind == .conversion)
        #expect(function?.description.contains("function cannot leave Lua") == true)
        let cycle = #expect(throws: LuaError.self) {
            try lua.run("local t = {} t.self = t return t", chunkName: "cycle.lua")
        }
        #expect(cycle?.message.contains("contains itself") == true)
    }

    @Test("values render as Lua source")
    func rendering() {
        let value: LuaValue = ["b": [1, 2.5, "x"], "a": true, "with space": 1, 3: "three"]
        #expect(value.description == #"{[3] = "three", a = true, b = {1, 2.5, "x"}, ["with space"] = 1}"#)
        #expect(LuaValue.number(1e15).description == "1e+15")
        #expect(LuaValue.number(2).description == "2.0")
        #expect(LuaValue.string("a\"b\n").description == #""a\"b\n""#)
    }
}
