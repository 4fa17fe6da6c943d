import CLua

/// Shows one object at a time to Lua for the length of a body, through a reference made once: the cheap way to pass a
/// different object to every call.
///
/// Each ``lend(_:_:)`` makes a fresh userdata that shows the object without holding it: no retain, no finalizer for
/// the collector to run, no registry slot or Swift object to allocate. When the body returns the userdata is emptied,
/// so a rule that kept it (in a local of its file, say) and reads it in a later call gets an error saying so, never
/// the object of that later call.
///
/// ```swift
/// let slot = lua.objectSlot(for: customerType)
/// let isVIP = try slot.lend(customer) { c in try lua.call(predicate) { $0.push(c) } results: { try $0.value(at: 1) } }
/// ```
public final class LuaObjectSlot<Object: AnyObject> {
    /// The registry slot every lend points at its userdata.
    private let kept: LuaReference
    private let tag: UnsafeRawPointer
    /// The metatable of the type's retained userdata (for ``show(_:_:)`` while the slot is lent), and its name.
    private let metatable: Int32
    private let typeName: String
    /// Whether an object is lent now; a nested lend needs a slot (or a reference) of its own.
    public private(set) var isLent = false

    fileprivate init(kept: LuaReference, tag: UnsafeRawPointer, metatable: Int32, typeName: String) {
        self.kept = kept
        self.tag = tag
        self.metatable = metatable
        self.typeName = typeName
    }

    /// Shows `object` through the slot's reference while `body` runs. The slot must not be lent already (see
    /// ``isLent``).
    ///
    /// - Throws: what `body` throws, or ``LuaError`` when there is no room on the Lua stack.
    public func lend<T>(_ object: Object, _ body: (LuaReference) throws -> T) throws -> T {
        precondition(!isLent, "a LuaObjectSlot is lent to one object at a time")
        let core = kept.core
        guard lua_checkstack(core.L, 2) != 0 else {
            throw LuaError(kind: .stackOverflow, message: "no room on the Lua stack for an object")
        }
        let block = core.pushLentUserdata(object, tag: tag)
        lua_rawseti(core.L, orbit_registryindex(), lua_Integer(kept.reference))
        isLent = true
        defer {
            // Empty: a userdata kept beyond the body must not show a released object.
            block?.storeBytes(of: UserdataLayout(object: nil, tag: tag), as: UserdataLayout.self)
            isLent = false
        }
        return try withExtendedLifetime(object) { try body(kept) }
    }

    /// Shows `object` to `body`: lent through the slot when it is free, or, when it is lent further up (a call made
    /// while another runs), as a userdata of its own that holds `object` for as long as Lua keeps it.
    ///
    /// - Throws: what `body` throws, or ``LuaError`` when there is no room on the Lua stack.
    public func show<T>(_ object: Object, _ body: (LuaReference) throws -> T) throws -> T {
        guard isLent else { return try lend(object, body) }
        let own = try kept.core.reference(to: object, metatableRef: metatable, tag: tag, typeName: typeName)
        return try withExtendedLifetime(own) { try body(own) }
    }
}

@available(*, unavailable)
extension LuaObjectSlot: Sendable {}

extension LuaState {
    /// Makes a slot to lend objects of `type` (which must be registered) to calls, one at a time.
    public func objectSlot<Object>(for type: LuaObjectType<Object>) -> LuaObjectSlot<Object> {
        let metatable = core.metatable(of: type)  // checks the registration
        lua_pushboolean(core.L, 0)
        return LuaObjectSlot(
            kept: LuaReference(core: core, reference: luaL_ref(core.L, orbit_registryindex())), tag: type.tag,
            metatable: metatable, typeName: type.name)
    }
}
