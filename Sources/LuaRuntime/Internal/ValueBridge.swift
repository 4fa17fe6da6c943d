import CLua

/// Why a Lua value could not become a ``LuaValue``.
struct ValueConversionError: Error {
    var message: String
}

/// Converts the Lua value at a stack index into a ``LuaValue``, reading tables raw (no metamethod runs).
struct ValueReader {
    let core: StateCore
    private var openTables: Set<UnsafeRawPointer> = []
    static let maximumDepth = 100
    /// Values and string bytes one conversion may produce: a table that shares a subtable many times over is small
    /// in Lua and exponential as a tree.
    private var remainingValues = 200_000
    private var remainingBytes: Int

    init(core: StateCore) {
        self.core = core
        remainingBytes = max(core.limits.memoryBytes, 1 << 20)
    }

    mutating func read(at index: Int32) throws(ValueConversionError) -> LuaValue {
        let L = core.L
        let index = lua_absindex(L, index)
        remainingValues -= 1
        guard remainingValues >= 0 else {
            throw ValueConversionError(message: "a value of more than 200,000 parts cannot leave Lua")
        }
        switch lua_type(L, index) {
        case LUA_TNIL, LUA_TNONE:
            return .nil
        case LUA_TBOOLEAN:
            return .bool(lua_toboolean(L, index) != 0)
        case LUA_TNUMBER:
            return lua_isinteger(L, index) != 0 ? .integer(lua_tointegerx(L, index, nil)) : .number(lua_tonumberx(L, index, nil))
        case LUA_TSTRING:
            var length = 0
            let bytes = lua_tolstring(L, index, &length)
            remainingBytes -= length
            guard remainingBytes >= 0 else {
                throw ValueConversionError(message: "a value larger than the memory cap cannot leave Lua")
            }
            return .string(String(decoding: UnsafeRawBufferPointer(start: bytes, count: length), as: UTF8.self))
        case LUA_TTABLE:
            return try readTable(at: index)
        case let type:
            throw ValueConversionError(message: "a \(String(cString: lua_typename(L, type))) cannot leave Lua as a value")
        }
    }

    private mutating func readTable(at index: Int32) throws(ValueConversionError) -> LuaValue {
        let L = core.L
        guard let identity = lua_topointer(L, index) else { return .map([:]) }
        guard !openTables.contains(identity) else {
            throw ValueConversionError(message: "a table that contains itself cannot leave Lua as a value")
        }
        guard openTables.count < Self.maximumDepth, lua_checkstack(L, 3) != 0 else {
            throw ValueConversionError(message: "tables nested deeper than \(Self.maximumDepth) levels")
        }
        openTables.insert(identity)
        defer { openTables.remove(identity) }
        var fields: [LuaValue: LuaValue] = [:]
        lua_pushnil(L)
        while lua_next(L, index) != 0 {
            let key: LuaValue
            let value: LuaValue
            do {
                key = try read(at: -2)
                value = try read(at: -1)
            } catch {
                lua_settop(L, -3)
                throw error
            }
            orbit_pop(L, 1)
            fields[key] = value
        }
        if !fields.isEmpty, Self.isSequence(fields) {
            return .array((1...fields.count).map { fields[.integer(Int64($0)), default: .nil] })
        }
        return .map(fields)
    }

    private static func isSequence(_ fields: [LuaValue: LuaValue]) -> Bool {
        let count = Int64(fields.count)
        return fields.keys.allSatisfy { key in
            if case .integer(let position) = key { position >= 1 && position <= count } else { false }
        }
    }
}

/// Pushes a ``LuaValue`` onto the Lua stack.
struct ValueWriter {
    let L: OpaquePointer
    private var depth = 0

    init(L: OpaquePointer) {
        self.L = L
    }

    /// Returns false (having pushed nothing) when the stack has no room or the value is nested too deeply.
    mutating func push(_ value: LuaValue) -> Bool {
        switch value {
        case .nil: lua_pushnil(L)
        case .bool(let flag): lua_pushboolean(L, flag ? 1 : 0)
        case .integer(let number): lua_pushinteger(L, number)
        case .number(let number): lua_pushnumber(L, number)
        case .string(var text):
            text.withUTF8 { bytes in
                bytes.withMemoryRebound(to: CChar.self) { _ = lua_pushlstring(L, $0.baseAddress, $0.count) }
            }
        case .array(let items):
            guard enterTable() else { return false }
            defer { depth -= 1 }
            lua_createtable(L, Int32(clamping: items.count), 0)
            for (offset, item) in items.enumerated() {
                guard push(item) else { return abandonTable() }
                lua_rawseti(L, -2, lua_Integer(offset + 1))
            }
        case .map(let fields):
            guard enterTable() else { return false }
            defer { depth -= 1 }
            lua_createtable(L, 0, Int32(clamping: fields.count))
            for (key, item) in fields {
                // Lua tables cannot hold nil or NaN keys, nor nil values: such entries do not exist in Lua terms.
                if key == .nil || item == .nil { continue }
                if case .number(let number) = key, number.isNaN { continue }
                guard push(key) else { return abandonTable() }
                guard push(item) else {
                    orbit_pop(L, 1)
                    return abandonTable()
                }
                lua_rawset(L, -3)
            }
        }
        return true
    }

    private mutating func enterTable() -> Bool {
        guard depth < ValueReader.maximumDepth, lua_checkstack(L, 3) != 0 else { return false }
        depth += 1
        return true
    }

    private func abandonTable() -> Bool {
        orbit_pop(L, 1)
        return false
    }
}
