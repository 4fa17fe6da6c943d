import CLua

/// The fields of a table being built straight on the Lua stack by ``LuaState/readOnlyTable(name:capacity:_:)``.
public struct LuaTableFields: ~Copyable {
    private let L: OpaquePointer
    private var writer: ValueWriter
    /// Whether a field holds a table (then the table is made read-only all the way down).
    fileprivate private(set) var isNested = false
    /// Whether a value did not fit on the Lua stack (too deeply nested); the table is then abandoned.
    fileprivate private(set) var overflowed = false

    fileprivate init(L: OpaquePointer) {
        self.L = L
        writer = ValueWriter(L: L)
    }

    /// Sets `key` to `value`; a later `set` of the same key wins, and `.nil` leaves the key unset (as in a Lua
    /// table, and as a ``LuaValue/map(_:)`` converts).
    public mutating func set(_ key: String, _ value: LuaValue) {
        guard !overflowed, value != .nil else { return }
        switch value {
        case .array, .map: isNested = true
        default: break
        }
        var key = key
        key.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { _ = lua_pushlstring(L, $0.baseAddress, $0.count) }
        }
        guard writer.push(value) else {
            orbit_pop(L, 1)
            overflowed = true
            return
        }
        lua_rawset(L, -3)
    }
}

extension LuaState {
    /// Builds a table from the fields `fill` sets and keeps it read-only, exactly as ``reference(to:name:)`` keeps a
    /// ``LuaValue/map(_:)`` of the same fields, without building that map first (one Swift dictionary and its
    /// hashing less, for values made once per call, like an event).
    ///
    /// `capacity` is how many fields to make room for. A table with no table-valued field gets the shallow
    /// read-only wrapper (there is nothing deeper to protect).
    public func readOnlyTable(name: String, capacity: Int, _ fill: (inout LuaTableFields) -> Void) throws(LuaError)
        -> LuaReference
    {
        let L = core.L
        guard lua_checkstack(L, 4) != 0 else {
            throw LuaError(kind: .stackOverflow, message: "\(name): no room on the Lua stack for a table")
        }
        lua_createtable(L, 0, Int32(clamping: capacity))
        var fields = LuaTableFields(L: L)
        fill(&fields)
        guard !fields.overflowed else {
            orbit_pop(L, 1)
            throw LuaError(kind: .conversion, message: "\(name): nested too deeply for the Lua stack")
        }
        try Sandbox.makeReadOnly(in: core, name: name, deep: fields.isNested)
        return LuaReference(core: core, reference: luaL_ref(L, orbit_registryindex()))
    }
}
