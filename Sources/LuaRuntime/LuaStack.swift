import CLua

/// A window on the Lua stack during one call: a host function reads its arguments and pushes its results through
/// it, and a Swift → Lua call pushes arguments and reads results through it.
///
/// It cannot be copied, so it cannot outlive the call it was lent for. Positions are 1-based, as in Lua; for a method
/// of a ``LuaObjectType`` position 1 is the first argument after `self`.
public struct LuaStack: ~Copyable {
    /// Unowned: a stack window only exists during a call on a state, which keeps its core alive.
    unowned(unsafe) let core: StateCore
    let L: OpaquePointer
    /// Absolute stack index just below position 1.
    let base: Int32
    /// The function whose arguments these are, for error messages.
    let function: String
    /// Values pushed through this window so far.
    var pushedCount: Int32 = 0
    /// Set when a push found no room on the Lua stack; the push was dropped and the call fails.
    var overflowed = false

    init(core: StateCore, base: Int32, function: String) {
        self.core = core
        self.L = core.L
        self.base = base
        self.function = function
    }

    /// Number of values in the window (arguments of a host function, results of a call), pushes excluded.
    public var count: Int { Int(lua_gettop(L) - base - pushedCount) }

    private func slot(_ position: Int) -> Int32 { base + Int32(clamping: position) }

    private func exists(_ position: Int) -> Bool { position >= 1 && position <= count }

    /// Lua's type name of the value at `position` (`"no value"` past the end).
    public func typeName(at position: Int) -> String {
        exists(position) ? String(cString: orbit_typename(L, slot(position))) : "no value"
    }

    /// Whether the value at `position` is absent or nil.
    public func isNil(at position: Int) -> Bool {
        !exists(position) || lua_type(L, slot(position)) == LUA_TNIL
    }

    private func mismatch(_ position: Int, expected: String) -> LuaArgumentError {
        LuaArgumentError(function: function, position: position, problem: "\(expected) expected, got \(typeName(at: position))")
    }

    // MARK: Reading

    /// The integer at `position`; floats with an integral value and numeric strings convert as in Lua.
    public func integer(at position: Int) throws(LuaArgumentError) -> Int64 {
        var isInteger: Int32 = 0
        let value = exists(position) ? lua_tointegerx(L, slot(position), &isInteger) : 0
        guard isInteger != 0 else {
            if exists(position), lua_type(L, slot(position)) == LUA_TNUMBER {
                throw LuaArgumentError(function: function, position: position, problem: "number has no integer representation")
            }
            throw mismatch(position, expected: "number")
        }
        return value
    }

    /// The number at `position`.
    public func number(at position: Int) throws(LuaArgumentError) -> Double {
        var isNumber: Int32 = 0
        let value = exists(position) ? lua_tonumberx(L, slot(position), &isNumber) : 0
        guard isNumber != 0 else { throw mismatch(position, expected: "number") }
        return value
    }

    /// The string at `position` (numbers convert, as in Lua).
    public func string(at position: Int) throws(LuaArgumentError) -> String {
        guard exists(position) else { throw mismatch(position, expected: "string") }
        let type = lua_type(L, slot(position))
        guard type == LUA_TSTRING || type == LUA_TNUMBER else { throw mismatch(position, expected: "string") }
        return try withBytes(at: position) { String(decoding: $0, as: UTF8.self) }
    }

    /// The boolean at `position`: Lua truthiness, so any value is accepted.
    public func bool(at position: Int) -> Bool {
        exists(position) && lua_toboolean(L, slot(position)) != 0
    }

    /// The value at `position` converted to a ``LuaValue``.
    public func value(at position: Int) throws(LuaArgumentError) -> LuaValue {
        guard exists(position) else { return .nil }
        do {
            var reader = ValueReader(core: core)
            return try reader.read(at: slot(position))
        } catch {
            throw LuaArgumentError(function: function, position: position, problem: error.message)
        }
    }

    /// The function at `position`, kept as a reference that can be called later.
    public func function(at position: Int) throws(LuaArgumentError) -> LuaFunction {
        guard exists(position), lua_type(L, slot(position)) == LUA_TFUNCTION else {
            throw mismatch(position, expected: "function")
        }
        return LuaFunction(core: core, reference: core.reference(at: slot(position)), chunk: nil)
    }

    /// The host object of type `type` at `position`.
    public func object<Object>(at position: Int, as type: LuaObjectType<Object>) throws(LuaArgumentError) -> Object {
        guard exists(position), let object = core.userdataObject(at: slot(position), tag: type.tag) else {
            throw mismatch(position, expected: type.name)
        }
        return unsafeDowncast(object, to: Object.self)
    }

    /// Gives `body` the raw bytes of the string at `position` without copying them; for host functions that work on
    /// bytes (binary-safe, no UTF-8 decoding). Throws when the value is not a string or number.
    public func withBytes<R>(at position: Int, _ body: (UnsafeRawBufferPointer) throws -> R) throws(LuaArgumentError) -> R {
        guard exists(position), lua_type(L, slot(position)) == LUA_TSTRING || lua_type(L, slot(position)) == LUA_TNUMBER
        else { throw mismatch(position, expected: "string") }
        var length = 0
        let bytes = lua_tolstring(L, slot(position), &length)
        do {
            return try body(UnsafeRawBufferPointer(start: bytes, count: length))
        } catch {
            throw LuaArgumentError(function: function, position: position, problem: "\(error)")
        }
    }

    // MARK: Pushing

    /// Pushes a value (a result of a host function, or an argument of a call).
    public mutating func push(_ value: LuaValue) {
        guard ensureRoom() else { return }
        var writer = ValueWriter(L: L)
        guard writer.push(value) else {
            overflowed = true
            return
        }
        pushedCount += 1
    }

    /// Pushes an integer without building a ``LuaValue``.
    public mutating func push(_ value: Int64) {
        guard ensureRoom() else { return }
        lua_pushinteger(L, value)
        pushedCount += 1
    }

    /// Pushes a string without building a ``LuaValue``.
    public mutating func push(_ value: String) {
        guard ensureRoom() else { return }
        var value = value
        value.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { _ = lua_pushlstring(L, $0.baseAddress, $0.count) }
        }
        pushedCount += 1
    }

    /// Pushes raw bytes as a Lua string.
    public mutating func push(bytes: some Collection<UInt8>) {
        guard ensureRoom() else { return }
        let pushed: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            buffer.withMemoryRebound(to: CChar.self) { _ = lua_pushlstring(L, $0.baseAddress, $0.count) }
        }
        if pushed == nil {
            let copy = Array(bytes)
            copy.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { _ = lua_pushlstring(L, $0.baseAddress, $0.count) }
            }
        }
        pushedCount += 1
    }

    /// Pushes a host object as userdata of `type` (which must be registered with the state).
    public mutating func push<Object>(_ object: Object, as type: LuaObjectType<Object>) {
        let metatable = core.metatable(of: type)
        guard ensureRoom() else { return }
        core.pushUserdata(object, tag: type.tag, metatableRef: metatable)
        pushedCount += 1
    }

    /// Pushes a Lua function kept by reference.
    public mutating func push(_ function: LuaFunction) {
        precondition(function.core === core, "a LuaFunction can only be used on the state that made it")
        guard ensureRoom() else { return }
        core.pushReference(function.reference)
        pushedCount += 1
    }

    /// Pushes a new Swift function (a closure) callable from Lua.
    public mutating func push(function name: String, _ body: @escaping LuaHostFunctionBody) {
        guard ensureRoom() else { return }
        core.pushHostFunction(HostFunction(name: name, body: body))
        pushedCount += 1
    }

    /// Pushes a copy of the value at `position`, for host functions that return one of their arguments.
    public mutating func pushCopy(of position: Int) {
        guard ensureRoom() else { return }
        lua_pushvalue(L, slot(position))
        pushedCount += 1
    }

    /// Makes room for one value; lua_checkstack never raises, it reports. Pushes that find no room are dropped and
    /// the whole call fails with a stack overflow instead of writing past the stack.
    private mutating func ensureRoom(_ slots: Int32 = 1) -> Bool {
        if lua_checkstack(L, slots) == 0 { overflowed = true }
        return !overflowed
    }
}

extension LuaStack {
    /// The chunk and line of the Lua code that called the host function using this window, skipping internal chunks
    /// (see ``LuaState/load(_:chunkName:internal:)``): where a definition or an effect came from in the user's file.
    public var callerLocation: (chunk: String, line: Int)? {
        var level: Int32 = 1
        while core.hasFrame(atLevel: level) {
            if let location = core.location(atLevel: level), !core.internalChunks.contains(location.chunk) {
                return location
            }
            level += 1
        }
        return nil
    }
}

extension LuaStack {
    /// One field of the table at `position`, read raw (no metamethod runs) and converted; `nil` when the value there
    /// is not a table or has no such field. Cheaper than converting the whole table with ``value(at:)``.
    public func field(_ key: String, of position: Int) throws(LuaArgumentError) -> LuaValue {
        guard count >= position, lua_type(L, base + Int32(position)) == LUA_TTABLE, lua_checkstack(L, 2) != 0 else {
            return .nil
        }
        key.withCString { _ = lua_pushstring(L, $0) }  // no temporary C string array, unlike passing `key` itself
        _ = lua_rawget(L, base + Int32(position))
        defer { orbit_pop(L, 1) }
        do {
            var reader = ValueReader(core: core)
            return try reader.read(at: -1)
        } catch {
            throw LuaArgumentError(function: function, position: position, problem: "field '\(key)': \(error.message)")
        }
    }
}
