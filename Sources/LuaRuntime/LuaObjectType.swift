import CLua

/// Describes how a Swift class appears in Lua: as userdata whose fields and methods are looked up on demand through
/// `__index`, so a rule pays only for the fields it reads. The metatable is locked (`getmetatable` returns `false`)
/// and reading an unknown field is an error that names the type and the field, so typos surface at once.
///
/// ```swift
/// let customerType = LuaObjectType<Customer>(name: "customer")
/// customerType.field("id") { .string($0.id) }
/// customerType.method("spent") { customer, stack in stack.push(customer.spent(days: try stack.integer(at: 1))) }
/// lua.register(customerType)
/// ```
///
/// Add every field and method before registering the type with a state; later additions are not seen there.
public final class LuaObjectType<Object: AnyObject> {
    /// The name Lua error messages use for values of this type.
    public let name: String
    private(set) var members: [String: ObjectMember] = [:]
    /// Pushes the fields that are not members, when the type has open fields (see ``otherFields(_:)``).
    private(set) var otherField: ((AnyObject, String, inout LuaStack) throws -> Void)?

    /// Creates an empty description; add fields and methods before registering it.
    public init(name: String) {
        self.name = name
    }

    /// Adds a read-only field computed from the object when a rule reads it.
    public func field(_ name: String, _ value: @escaping (Object) -> LuaValue) {
        // Erased to AnyObject here, once, so that lookups never build generic function metadata.
        members[name] = .field { value(unsafeDowncast($0, to: Object.self)) }
    }

    /// Adds a read-only field that pushes its value itself (one value), for values better not rebuilt on every read:
    /// a table the host made once and shares, for instance.
    public func field(_ name: String, pushing push: @escaping (Object, inout LuaStack) throws -> Void) {
        members[name] = .pushedField { object, stack in try push(unsafeDowncast(object, to: Object.self), &stack) }
    }

    /// Makes every name that is not a field or a method a field that `push` pushes (one value; nil for a field the
    /// object does not have): for objects whose fields are data (an event's extra fields), where a missing field is
    /// an answer, not a typo. A key that is not a string reads as nil.
    public func otherFields(_ push: @escaping (Object, String, inout LuaStack) throws -> Void) {
        otherField = { object, name, stack in try push(unsafeDowncast(object, to: Object.self), name, &stack) }
    }

    /// Adds a method, called from Lua as `object:name(...)`. Arguments start at position 1 after `self`.
    public func method(_ name: String, _ body: @escaping (Object, inout LuaStack) throws -> Void) {
        members[name] = .method { object, stack in try body(unsafeDowncast(object, to: Object.self), &stack) }
    }

    /// A copy of this type that reports every field read and method call to `observer`, with the arguments (nil for a
    /// field) and the first result (values that cannot cross, such as functions, are reported by their type name).
    /// Explanations use it to show which values a rule saw. Register the copy like any type.
    public func observed(
        by observer: @escaping (_ member: String, _ arguments: [LuaValue]?, _ result: LuaValue) -> Void
    ) -> LuaObjectType<Object> {
        let copy = LuaObjectType(name: name)
        if let other = otherField {
            copy.otherField = { object, field, stack in
                let argumentCount = stack.count
                try other(object, field, &stack)
                observer(field, nil, stack.observedValue(at: argumentCount + 1))
            }
        }
        for (memberName, member) in members {
            switch member {
            case .field(let value):
                copy.members[memberName] = .field { object in
                    let result = value(object)
                    observer(memberName, nil, result)
                    return result
                }
            case .pushedField(let push):
                copy.members[memberName] = .pushedField { object, stack in
                    let argumentCount = stack.count
                    try push(object, &stack)
                    observer(memberName, nil, stack.observedValue(at: argumentCount + 1))
                }
            case .method(let body):
                copy.members[memberName] = .method { object, stack in
                    let argumentCount = stack.count
                    let arguments = (0..<argumentCount).map { stack.observedValue(at: $0 + 1) }
                    try body(object, &stack)
                    let result = stack.pushedCount > 0 ? stack.observedValue(at: argumentCount + 1) : .nil
                    observer(memberName, arguments, result)
                }
            }
        }
        return copy
    }

    /// All field and method names, sorted (for completion and diagnostics).
    public var memberNames: [String] { members.keys.sorted() }

    /// Identifies this type inside the userdata the runtime creates for its objects.
    var tag: UnsafeRawPointer { UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque()) }
}

/// A field or a method of a host object type, erased to `AnyObject`.
enum ObjectMember {
    case field((AnyObject) -> LuaValue)
    case pushedField((AnyObject, inout LuaStack) throws -> Void)
    case method((AnyObject, inout LuaStack) throws -> Void)
}

@available(*, unavailable)
extension LuaObjectType: Sendable {}

extension LuaStack {
    /// The value at `position`, pushed results included, for an observer: a read-only view as the table it shows,
    /// and what cannot cross as its type name.
    fileprivate func observedValue(at position: Int) -> LuaValue {
        let index = base + Int32(clamping: position)
        guard index <= lua_gettop(L) else { return .nil }
        var reader = ValueReader(core: core)
        if lua_type(L, index) == LUA_TTABLE, lua_checkstack(L, 2) != 0, orbit_is_readonly(L, index) != 0 {
            orbit_readonly_target(L, index)
            defer { orbit_pop(L, 1) }
            return (try? reader.read(at: lua_gettop(L))) ?? .string("table")
        }
        return (try? reader.read(at: index)) ?? .string(String(cString: orbit_typename(L, index)))
    }
}
