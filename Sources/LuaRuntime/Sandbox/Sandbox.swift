import CLua
import Logging

/// Builds the environment every chunk runs in: an allow-list of safe globals in a frozen base, read-only library
/// tables, a locked string metatable, and wrappers that bound what C library functions can do in one call.
enum Sandbox {
    /// The chunk name of the sandbox's own Lua; error locations skip its frames.
    static let chunkName = "[orbit sandbox]"

    /// Opens the safe standard libraries, installs the host functions the sandbox needs and runs the bootstrap.
    static func install(in core: StateCore) throws(LuaError) {
        let L = core.L
        core.registerHostFunctionMetatable()
        let libraries: [(String, lua_CFunction)] = [
            ("_G", luaopen_base), ("string", luaopen_string), ("table", luaopen_table), ("math", luaopen_math),
            ("utf8", luaopen_utf8),
        ]
        for (name, open) in libraries {
            luaL_requiref(L, name, open, 1)
            orbit_pop(L, 1)
        }
        core.registerMessageHandler()

        try core.loadTrusted(bootstrapSource, chunkName: chunkName)
        lua_createtable(L, 0, 8)
        let hostFunctions: [String: LuaHostFunctionBody] = PatternLibrary.functions.merging(
            ["print": print, "load": load, "charge": charge], uniquingKeysWith: { first, _ in first })
        for (name, body) in hostFunctions {
            core.pushHostFunction(HostFunction(name: name, body: body))
            lua_setfield(L, -2, name)
        }
        lua_pushcclosure(L, orbit_readonly_cfunction(), 0)
        lua_setfield(L, -2, "readonly")
        try core.protectedCall(argumentCount: 1, chunk: chunkName)
        // The bootstrap returned: base, environment metatable, index, deep readonly.
        core.deepReadOnlyRef = luaL_ref(L, orbit_registryindex())
        core.indexFunctionRef = luaL_ref(L, orbit_registryindex())
        core.environmentMetatableRef = luaL_ref(L, orbit_registryindex())
        core.baseEnvironmentRef = luaL_ref(L, orbit_registryindex())
    }

    /// Replaces the table on top of the stack with a read-only view of it named `name` (and of every table in it,
    /// when `deep`: that walk runs the bootstrap's Lua in a protected call, under the limits like any call).
    static func makeReadOnly(in core: StateCore, name: String, deep: Bool = false) throws(LuaError) {
        let L = core.L
        guard lua_checkstack(L, 4) != 0 else {
            throw LuaError(kind: .stackOverflow, message: "\(name): no room on the Lua stack for a read-only view")
        }
        guard deep else {
            name.withCString { orbit_make_readonly(L, $0) }
            return
        }
        core.pushReference(core.deepReadOnlyRef)
        orbit_insert(L, -2)
        lua_pushstring(L, name)
        try core.protectedCall(argumentCount: 2, chunk: chunkName)
    }

    /// The longest line `print` logs; the rest is cut, so a rule cannot make the host copy unbounded text.
    static let printLimit = 16 << 10

    /// `print`: to the host's logger, never stdout. Values render without metamethods.
    private static func print(_ stack: inout LuaStack) throws {
        let core = stack.core
        var line = ""
        for position in 1...max(stack.count, 1) where position <= stack.count {
            if position > 1 { line += "\t" }
            switch stack.typeName(at: position) {
            case "string", "number":
                line += try stack.withBytes(at: position) { bytes in
                    String(decoding: bytes.prefix(max(0, printLimit - line.utf8.count)), as: UTF8.self)
                }
            case "nil": line += "nil"
            case "boolean": line += stack.bool(at: position) ? "true" : "false"
            case let type: line += type
            }
            if line.utf8.count >= printLimit {
                line += "… (cut at \(printLimit >> 10) KiB)"
                break
            }
        }
        guard core.charge(instructions: line.utf8.count >> 4) else { throw LimitInterrupt() }
        core.logger.info("\(line)", metadata: ["chunk": "\(core.callerChunk() ?? "?")"])
    }

    /// `load`: text chunks only, within the source-size limit, with a fresh environment unless one is given.
    private static func load(_ stack: inout LuaStack) throws {
        let core = stack.core
        guard stack.typeName(at: 1) == "string" else {
            throw LuaArgumentError(
                function: "load", position: 1,
                problem: "only source strings can be loaded in rules, got \(stack.typeName(at: 1))")
        }
        if !stack.isNil(at: 3), try stack.string(at: 3) != "t" {
            throw LuaArgumentError(function: "load", position: 3, problem: "only text chunks (mode 't') can be loaded")
        }
        let name = stack.isNil(at: 2) ? "=(load)" : try stack.string(at: 2)
        let source = try stack.string(at: 1)
        do {
            try core.compile(source, chunkname: name)
        } catch {
            stack.push(.nil)
            stack.push(error.description)
            return
        }
        if stack.isNil(at: 4) {
            core.pushFreshEnvironment()
        } else {
            lua_pushvalue(core.L, 4)
        }
        _ = lua_setupvalue(core.L, -2, 1)
        stack.pushedCount += 1
    }

    /// `charge(n)`: bootstrap wrappers report work a C function is about to do without allocating for it.
    private static func charge(_ stack: inout LuaStack) throws {
        let work = try stack.integer(at: 1)
        if work > 0, !stack.core.charge(instructions: Int(work)) {
            throw LimitInterrupt()
        }
    }

    /// The trusted Lua that builds the sandbox. It runs once per state, with the real globals, before any rule.
    static let bootstrapSource = """
        local host = ...
        local error, type, next, select, tostring, getmetatable, setmetatable, rawget =
              error, type, next, select, tostring, getmetatable, setmetatable, rawget
        local math_type, ceil, log = math.type, math.ceil, math.log
        local charge = host.charge

        -- In C (orbit_make_readonly): an empty proxy over `t` with a locked metatable; pairs() iterates `t` without
        -- handing it out.
        local readonly = host.readonly

        local function pick(library, names)
          local copy = {}
          for name in names:gmatch("%S+") do copy[name] = library[name] end
          return copy
        end

        local function check(value, expected, position, fname)
          if type(value) ~= expected then
            error(("bad argument #%d to '%s' (%s expected, got %s)"):format(
              position, fname, expected, value == nil and "no value" or type(value)), 3)
          end
        end

        local function checkinteger(value, position, fname)
          if math_type(value) ~= "integer" then
            local problem = type(value) == "number" and "number has no integer representation"
              or ("number expected, got " .. (value == nil and "no value" or type(value)))
            error(("bad argument #%d to '%s' (%s)"):format(position, fname, problem), 3)
          end
          return value
        end

        -- string: no dump; the pattern functions are the host's, which count their steps against the budget.
        local strings = pick(string, "char format len lower reverse sub upper")
        -- Functions whose C loop runs over their input without allocating for it: charge the length first.
        local function charged(f, weigh)
          return function(...)
            charge(weigh(...))
            local results = table.pack(f(...))
            return table.unpack(results, 1, results.n)
          end
        end
        local function length(s) return type(s) == "string" and #s >> 4 or 0 end
        strings.byte = charged(string.byte, length)
        strings.pack = charged(string.pack, length)
        strings.packsize = charged(string.packsize, length)
        strings.unpack = charged(string.unpack, function(format, data) return length(format) + length(data) end)
        strings.find, strings.match, strings.gmatch, strings.gsub = host.find, host.match, host.gmatch, host.gsub
        local rep = string.rep
        function strings.rep(s, n, sep)
          -- rep loops n times in C: an empty piece would spin without allocating, so answer it here.
          if s == "" and (sep == nil or sep == "") and tonumber(n) ~= nil then return "" end
          local result = rep(s, n, sep)
          charge(#result >> 3)
          return result
        end
        local string_metatable = getmetatable("")
        string_metatable.__index = strings
        string_metatable.__metatable = false

        -- table: the shifting functions run in Lua, so the instruction budget sees their work.
        local tables = pick(table, "pack")
        local unpack, sort, concat = table.unpack, table.sort, table.concat
        function tables.unpack(t, i, j)
          local first, last = math.tointeger(i or 1), math.tointeger(j or (type(t) == "table" and #t or 0))
          if first and last and last > first then charge(last - first) end
          local results = table.pack(unpack(t, i, j))
          return unpack(results, 1, results.n)
        end
        function tables.concat(t, sep, i, j)
          local first, last = math.tointeger(i or 1), math.tointeger(j or (type(t) == "table" and #t or 0))
          if first and last and last > first then charge(last - first) end
          local result = concat(t, sep, i, j)
          return result
        end
        function tables.sort(t, comparator)
          check(t, "table", 1, "sort")
          if getmetatable(t) ~= nil then
            error("bad argument #1 to 'sort' (tables with metatables cannot be sorted in rules)", 2)
          end
          local n = #t
          if n > 1 then charge(n * ceil(log(n, 2))) end
          sort(t, comparator)
        end
        function tables.insert(t, ...)
          check(t, "table", 1, "insert")
          local count, e = select("#", ...), #t + 1
          if count == 1 then
            t[e] = ...
            return
          elseif count ~= 2 then
            error("wrong number of arguments to 'insert'", 2)
          end
          local position, value = ...
          checkinteger(position, 2, "insert")
          if position < 1 or position > e then error("bad argument #2 to 'insert' (position out of bounds)", 2) end
          for i = e, position + 1, -1 do t[i] = t[i - 1] end
          t[position] = value
        end
        function tables.remove(t, position)
          check(t, "table", 1, "remove")
          local size = #t
          if position == nil then
            position = size
          else
            checkinteger(position, 2, "remove")
            if position ~= size and (position < 1 or position > size + 1) then
              error("bad argument #2 to 'remove' (position out of bounds)", 2)
            end
          end
          local value = t[position]
          while position < size do
            t[position] = t[position + 1]
            position = position + 1
          end
          t[position] = nil
          return value
        end
        function tables.move(a1, f, e, t, a2)
          checkinteger(f, 2, "move")
          checkinteger(e, 3, "move")
          checkinteger(t, 4, "move")
          if a2 == nil then a2 = a1 end
          check(a1, "table", 1, "move")
          check(a2, "table", 5, "move")
          if e >= f then
            if not (f > 0 or e < math.maxinteger + f) then error("bad argument #3 to 'move' (too many elements to move)", 2) end
            local n = e - f + 1
            if t > math.maxinteger - n + 1 then error("bad argument #4 to 'move' (destination wrap around)", 2) end
            if t > e or t <= f or a1 ~= a2 then
              for i = 0, n - 1 do a2[t + i] = a1[f + i] end
            else
              for i = n - 1, 0, -1 do a2[t + i] = a1[f + i] end
            end
          end
          return a2
        end

        -- utf8: the scanning functions charge for the bytes they walk.
        local utf8s = pick(utf8, "char charpattern")
        -- utf8.codes skips continuation bytes in C on every step: validate first (charged), so each step is short,
        -- and keep the iterator to its own string.
        local codes, utf8_len = utf8.codes, utf8.len
        function utf8s.codes(s, lax)
          if type(s) == "string" then
            charge(#s >> 4)
            if not utf8_len(s, 1, -1, lax) then error("bad argument #1 to 'codes' (invalid UTF-8 code)", 2) end
          end
          local step, subject, start = codes(s, lax)
          return function(text, position)
            if text ~= subject then error("a utf8.codes iterator walks only the string it was made for", 2) end
            return step(text, position)
          end, subject, start
        end
        for _, name in ipairs({ "codepoint", "len", "offset" }) do
          local scan = utf8[name]
          utf8s[name] = function(s, ...)
            if type(s) == "string" then charge(#s >> 4) end
            return scan(s, ...)
          end
        end

        local maths = pick(math, "abs acos asin atan ceil cos exp floor fmod huge log max maxinteger min "
          .. "mininteger modf pi random sin sqrt tan tointeger type ult")
        math.randomseed(0)

        -- Finalizers run with hooks off and could hang the host: rule code may not install them.
        local function safe_setmetatable(t, metatable)
          if type(metatable) == "table" and rawget(metatable, "__gc") ~= nil then
            error("bad argument #2 to 'setmetatable' (__gc metamethods are not allowed in rules)", 2)
          end
          return setmetatable(t, metatable)
        end

        -- Lua runs an xpcall handler before unwinding; for an error raised by the limit hook that is with hooks off,
        -- where a looping handler would hang the host. Here the handler runs after unwinding, under the limits.
        local pcall, pack = pcall, table.pack
        local function safe_xpcall(f, handler, ...)
          check(handler, "function", 2, "xpcall")
          local results = pack(pcall(f, ...))
          if results[1] then return unpack(results, 1, results.n) end
          local _, handled = pcall(handler, results[2])
          return false, handled
        end

        local base = pick(_G, "assert error getmetatable ipairs next pairs pcall rawequal rawget rawlen select "
          .. "tonumber tostring type _VERSION")
        base.setmetatable, base.xpcall = safe_setmetatable, safe_xpcall
        base.print, base.load = host.print, host.load
        base.string = readonly(strings, "string")
        base.table = readonly(tables, "table")
        base.math = readonly(maths, "math")
        base.utf8 = readonly(utf8s, "utf8")
        local function deep_readonly(t, name)
          for key, value in next, t do
            if type(value) == "table" then t[key] = deep_readonly(value, name .. "." .. tostring(key)) end
          end
          return readonly(t, name)
        end

        return base, { __index = base, __metatable = false }, function(t, key) return t[key] end, deep_readonly
        """
}

/// Thrown by host functions when a limit tripped; the dispatcher raises the limit's own error value.
struct LimitInterrupt: Error {}
