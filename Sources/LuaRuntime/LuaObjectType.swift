import CLua

/// Describes how a Swift class appears in Lua: as userdata whose fields and methods are looked up on demand through
/// `__index`, so a rule pays only for the fields it reads. The metatable is locked (`getmetatable` returns `false`)
/// and reading an unknown field is an error that names the type and the field, so typos surface at once.
///
/// ```swift
/// let customerType = LuaObjectType<Customer>(name: "customer")
/// customerType.field("id") { .string($0.id) }
/// customerType.method("spent") { customer, stack in stack.push(customer.spent(days: try stack.integer(at: 1))) }
/// try state.register(customerType)
/// ```
public final class LuaObjectType<Object: AnyObject> {
    /// The name Lua error messages use for values of this type.
    public let name: String
    let metatableName: String
    private(set) var fields: [String: (Object) -> LuaValue] = [:]
    private(set) var methods: [String: (Object, inout LuaStack) throws -> Void] = [:]

    /// Creates an empty description; add fields and methods before registering it.
    public init(name: String) {
        self.name = name
        self.metatableName = "orbit.object." + name
    }

    /// Adds a read-only field computed from the object when a rule reads it.
    public func field(_ name: String, _ value: @escaping (Object) -> LuaValue) {
        fields[name] = value
    }

    /// Adds a method, called from Lua as `object:name(...)`. Arguments start at position 1 after `self`.
    public func method(_ name: String, _ body: @escaping (Object, inout LuaStack) throws -> Void) {
        methods[name] = body
    }

    /// All field and method names, sorted (for completion and diagnostics).
    public var memberNames: [String] { (Array(fields.keys) + Array(methods.keys)).sorted() }
}

@available(*, unavailable)
extension LuaObjectType: Sendable {}
