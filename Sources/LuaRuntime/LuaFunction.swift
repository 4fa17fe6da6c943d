import CLua

/// A Lua function kept in the registry of its state: compile once, call many times with ``LuaState/call(_:_:)``.
///
/// Not `Sendable`: it belongs to the state that made it, and is released there when the last reference goes.
public final class LuaFunction {
    /// The registry slot; released with the last reference to this function.
    private let kept: LuaReference
    /// The chunk the function was loaded from, when the runtime knows it; errors without a Lua location name it.
    public let chunk: String?

    init(core: StateCore, reference: Int32, chunk: String?) {
        kept = LuaReference(core: core, reference: reference)
        self.chunk = chunk
    }

    var core: StateCore { kept.core }
    var reference: Int32 { kept.reference }
}

@available(*, unavailable)
extension LuaFunction: Sendable {}

/// Any Lua value kept in the registry of its state: build a table once, pass it to many calls.
public final class LuaReference {
    let core: StateCore
    let reference: Int32

    init(core: StateCore, reference: Int32) {
        self.core = core
        self.reference = reference
    }

    deinit {
        core.release(reference)
    }
}

@available(*, unavailable)
extension LuaReference: Sendable {}

extension LuaState {
    /// Converts `value` into Lua once and keeps it, to be pushed by reference to many calls. Tables are made
    /// read-only (all the way down, named `name` in errors), so that one callee cannot change what the next sees.
    public func reference(to value: LuaValue, name: String = "value") throws(LuaError) -> LuaReference {
        var writer = ValueWriter(L: core.L)
        guard writer.push(value) else {
            throw LuaError(kind: .conversion, message: "\(name): nested too deeply for the Lua stack")
        }
        if lua_type(core.L, -1) == LUA_TTABLE { try Sandbox.makeReadOnly(in: core, name: name, deep: true) }
        return LuaReference(core: core, reference: luaL_ref(core.L, orbit_registryindex()))
    }
}

extension LuaState {
    /// Wraps `object` as userdata of `type` (which must be registered) once and keeps it, to be pushed by reference
    /// to many calls: every call then sees the same userdata, where ``LuaStack/push(_:as:)`` makes a new one each time.
    public func reference<Object>(to object: Object, as type: LuaObjectType<Object>) throws(LuaError) -> LuaReference {
        try core.reference(to: object, metatableRef: core.metatable(of: type), tag: type.tag, typeName: type.name)
    }
}

extension LuaStack {
    /// Pushes a value kept by ``LuaState/reference(to:)``.
    public mutating func push(_ reference: LuaReference) {
        precondition(reference.core === core, "a LuaReference can only be used on the state that made it")
        guard lua_checkstack(L, 1) != 0 else {
            overflowed = true
            return
        }
        core.pushReference(reference.reference)
        pushedCount += 1
    }
}
