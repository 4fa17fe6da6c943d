import CLua

/// Every userdata the runtime creates holds a retained Swift object and a tag: the identity of its
/// ``LuaObjectType`` (or `nil` for the boxes behind host functions). Rule code cannot create userdata, so a tag
/// check is a complete type check.
struct UserdataLayout {
    var object: UnsafeMutableRawPointer?
    var tag: UnsafeRawPointer?
}

/// One object type as registered in one state: its members by name, found by the address of the interned Lua
/// string for short names (no Swift string is built, nothing is hashed on the hot path), by content otherwise.
final class RegisteredObjectType {
    /// A member as this state holds it: a field getter, or the registry reference of the method's function.
    enum Member {
        case field((AnyObject) -> LuaValue)
        case pushedField((AnyObject, inout LuaStack) throws -> Void)
        case method(reference: Int32)
    }

    let name: String
    /// Pushes names that are not members, for types with open fields (see ``LuaObjectType/otherFields(_:)``).
    let otherField: ((AnyObject, String, inout LuaStack) throws -> Void)?
    private let members: [Member]
    private let indexByName: [String: Int]
    /// Open addressing over interned-string addresses: slot → (address, member index); empty slots hold nil.
    private let slots: [(address: UnsafeRawPointer?, index: Int)]
    private let slotMask: Int

    init(
        name: String, members: [(name: String, address: UnsafeRawPointer, member: Member)],
        otherField: ((AnyObject, String, inout LuaStack) throws -> Void)?
    ) {
        self.name = name
        self.otherField = otherField
        self.members = members.map(\.member)
        indexByName = Dictionary(uniqueKeysWithValues: members.enumerated().map { ($1.name, $0) })
        var capacity = 8
        while capacity < members.count * 2 { capacity *= 2 }
        var slots = [(address: UnsafeRawPointer?, index: Int)](repeating: (nil, 0), count: capacity)
        for (index, member) in members.enumerated() {
            var slot = Self.hash(member.address) & (capacity - 1)
            while slots[slot].address != nil { slot = (slot + 1) & (capacity - 1) }
            slots[slot] = (member.address, index)
        }
        self.slots = slots
        slotMask = capacity - 1
    }

    private static func hash(_ address: UnsafeRawPointer) -> Int {
        let bits = Int(bitPattern: address)
        return (bits >> 4) ^ (bits >> 11)
    }

    /// The member a Lua key names.
    func member(key: UnsafePointer<CChar>, length: Int) -> Member? {
        let address = UnsafeRawPointer(key)
        var slot = Self.hash(address) & slotMask
        while let candidate = slots[slot].address {
            if candidate == address { return members[slots[slot].index] }
            slot = (slot + 1) & slotMask
        }
        // Long names are not interned in Lua: compare contents.
        let name = String(decoding: UnsafeRawBufferPointer(start: key, count: length), as: UTF8.self)
        return indexByName[name].map { members[$0] }
    }
}

extension StateCore {
    /// Pushes `object` retained inside a new userdata tagged `tag`, with the metatable stored at `metatableRef`.
    func pushUserdata(_ object: AnyObject, tag: UnsafeRawPointer?, metatableRef: Int32) {
        pushUserdata(UserdataLayout(object: Unmanaged.passRetained(object).toOpaque(), tag: tag), metatableRef: metatableRef)
    }

    /// A new userdata of the type tagged `tag` holding `object` retained, kept in the registry.
    func reference(to object: AnyObject, metatableRef: Int32, tag: UnsafeRawPointer, typeName: String) throws(LuaError)
        -> LuaReference
    {
        guard lua_checkstack(L, 2) != 0 else {
            throw LuaError(kind: .stackOverflow, message: "\(typeName): no room on the Lua stack for an object")
        }
        pushUserdata(object, tag: tag, metatableRef: metatableRef)
        return LuaReference(core: self, reference: luaL_ref(L, orbit_registryindex()))
    }

    /// Pushes a userdata of the type tagged `tag` showing `object` without holding it (no `__gc`: nothing to
    /// release, nothing for the collector to finalize); returns its memory, where the lender empties it.
    func pushLentUserdata(_ object: AnyObject, tag: UnsafeRawPointer) -> UnsafeMutableRawPointer? {
        guard let metatable = lentMetatables[tag] else {
            preconditionFailure("an object type is lent before it was registered with the state")
        }
        return pushUserdata(
            UserdataLayout(object: Unmanaged.passUnretained(object).toOpaque(), tag: tag), metatableRef: metatable)
    }

    /// Pushes a new userdata holding `layout`, with the metatable stored at `metatableRef`; returns its memory.
    @discardableResult
    private func pushUserdata(_ layout: UserdataLayout, metatableRef: Int32) -> UnsafeMutableRawPointer? {
        let block = orbit_newuserdata(L, MemoryLayout<UserdataLayout>.size)
        block?.storeBytes(of: layout, as: UserdataLayout.self)
        pushReference(metatableRef)
        _ = lua_setmetatable(L, -2)
        return block
    }

    /// The registry reference of the metatable of `type`, which must be registered with this state.
    func metatable<Object>(of type: LuaObjectType<Object>) -> Int32 {
        guard let metatable = objectMetatables[type.tag] else {
            preconditionFailure("object type '\(type.name)' is pushed before it was registered with the state")
        }
        return metatable
    }

    /// The object in the runtime-made userdata at `index` when its tag is `tag`.
    func userdataObject(at index: Int32, tag: UnsafeRawPointer) -> AnyObject? {
        guard let layout = userdataLayout(at: index), layout.tag == tag, let object = layout.object else { return nil }
        return Unmanaged<AnyObject>.fromOpaque(object).takeUnretainedValue()
    }

    /// Whether the value at `index` is a runtime-made userdata tagged `tag` that holds no object (a lent one, read
    /// after its lending ended).
    func isEmptyUserdata(at index: Int32, tag: UnsafeRawPointer) -> Bool {
        guard let layout = userdataLayout(at: index) else { return false }
        return layout.tag == tag && layout.object == nil
    }

    /// What the value at `index` holds when it is a userdata the runtime made.
    private func userdataLayout(at index: Int32) -> UserdataLayout? {
        guard lua_type(L, index) == LUA_TUSERDATA, lua_rawlen(L, index) == MemoryLayout<UserdataLayout>.size else {
            return nil
        }
        return lua_touserdata(L, index)?.load(as: UserdataLayout.self)
    }

    /// Creates the metatable and the `__index` function of an object type in this state.
    func register<Object>(_ type: LuaObjectType<Object>) {
        guard objectMetatables[type.tag] == nil else { return }
        var members: [(name: String, address: UnsafeRawPointer, member: RegisteredObjectType.Member)] = []
        lua_createtable(L, 0, 6)
        lua_pushstring(L, type.name)
        lua_setfield(L, -2, "__name")
        lua_pushboolean(L, 0)
        lua_setfield(L, -2, "__metatable")
        lua_pushcclosure(L, releaseRetainedObject, 0)
        lua_setfield(L, -2, "__gc")
        // The member names live in this table as long as the state does, which keeps their addresses stable.
        lua_createtable(L, 0, Int32(clamping: type.members.count))
        for (memberName, member) in type.members.sorted(by: { $0.key < $1.key }) {
            let address = UnsafeRawPointer(lua_pushstring(L, memberName).unsafelyUnwrapped)
            lua_pushboolean(L, 1)
            lua_rawset(L, -3)
            switch member {
            case .field(let value):
                members.append((memberName, address, .field(value)))
            case .pushedField(let push):
                members.append((memberName, address, .pushedField(push)))
            case .method(let body):
                let tag = type.tag
                let typeName = type.name
                pushHostFunction(
                    HostFunction(name: memberName) { stack in
                        guard let object = stack.core.userdataObject(at: 1, tag: tag) else {
                            if stack.core.isEmptyUserdata(at: 1, tag: tag) { throw ObjectGoneError(type: typeName) }
                            throw LuaError(
                                kind: .runtime,
                                message: "calling '\(memberName)' on bad self (\(typeName) expected, got "
                                    + "\(stack.typeName(at: 1)))")
                        }
                        var arguments = LuaStack(core: stack.core, base: stack.base + 1, function: memberName)
                        try body(object, &arguments)
                        stack.pushedCount = arguments.pushedCount
                        stack.overflowed = arguments.overflowed
                    })
                members.append((memberName, address, .method(reference: luaL_ref(L, orbit_registryindex()))))
            }
        }
        lua_setfield(L, -2, "__members")
        let registered = RegisteredObjectType(name: type.name, members: members, otherField: type.otherField)
        pushHostFunction(HostFunction(name: "__index") { stack in try Self.index(&stack, in: registered) })
        lua_setfield(L, -2, "__index")
        let typeName = type.name
        pushHostFunction(
            HostFunction(name: "__newindex") { stack in
                _ = try Self.object(in: stack.core.L, of: registered)  // a lent object kept too long says so first
                throw ReadOnlyObjectError(type: typeName, field: try Self.fieldName(in: stack))
            })
        lua_setfield(L, -2, "__newindex")
        // The lent variant: every field but `__gc`.
        lua_createtable(L, 0, 5)
        lua_pushnil(L)
        while lua_next(L, -3) != 0 {
            if lua_type(L, -2) == LUA_TSTRING, String(cString: lua_tolstring(L, -2, nil)) == "__gc" {
                orbit_pop(L, 1)
                continue
            }
            lua_pushvalue(L, -2)
            orbit_insert(L, -2)
            lua_rawset(L, -4)
        }
        lentMetatables[type.tag] = luaL_ref(L, orbit_registryindex())
        objectMetatables[type.tag] = luaL_ref(L, orbit_registryindex())
    }

    /// The object of the userdata at 1 in `__index`, which is only ever called with one of `type`'s userdata there.
    private static func object(in L: OpaquePointer, of type: RegisteredObjectType) throws -> AnyObject {
        guard let object = lua_touserdata(L, 1)?.load(as: UserdataLayout.self).object else {
            throw ObjectGoneError(type: type.name)
        }
        return Unmanaged<AnyObject>.fromOpaque(object).takeUnretainedValue()
    }

    /// The key at 2 of `__index` or `__newindex` as errors name it: the string, or the type of another key.
    private static func fieldName(in stack: borrowing LuaStack) throws -> String {
        lua_type(stack.core.L, 2) == LUA_TSTRING ? try stack.string(at: 2) : "(\(stack.typeName(at: 2)))"
    }

    /// `__index` of host objects: only ever called with one of this type's userdata at 1 (the metatable is locked).
    private static func index(_ stack: inout LuaStack, in type: RegisteredObjectType) throws {
        let core = stack.core
        let L = core.L
        var length = 0
        guard lua_type(L, 2) == LUA_TSTRING, let key = lua_tolstring(L, 2, &length),
            let member = type.member(key: key, length: length)
        else {
            let key = try fieldName(in: stack)
            guard let otherField = type.otherField else { throw ObjectFieldError(type: type.name, field: key) }
            let object = try object(in: L, of: type)
            if lua_type(L, 2) == LUA_TSTRING { try otherField(object, key, &stack) } else { stack.push(.nil) }
            return
        }
        switch member {
        case .field(let value):
            stack.push(value(try object(in: L, of: type)))
        case .pushedField(let push):
            try push(try object(in: L, of: type), &stack)
        case .method(let reference):
            core.pushReference(reference)
            stack.pushedCount += 1
        }
    }
}

/// Assigning a field of a host object, which rules only read.
struct ReadOnlyObjectError: Error, CustomStringConvertible {
    var type: String
    var field: String
    var description: String { "attempt to modify read-only \(type) (field '\(field)')" }
}

/// Reading a lent object (see ``LuaObjectSlot``) after the call it was lent for returned.
struct ObjectGoneError: Error, CustomStringConvertible {
    var type: String
    var description: String {
        "this \(type) is no longer available: it was kept beyond the call it was passed to"
    }
}

/// Reading a field a host object does not have.
struct ObjectFieldError: Error, CustomStringConvertible {
    var type: String
    var field: String
    var description: String { "\(type) has no field '\(field)'" }
}
