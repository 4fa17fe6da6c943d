import CLua

/// A Lua function kept in the registry of its state: compile once, call many times with ``LuaState/call(_:_:)``.
///
/// Not `Sendable`: it belongs to the state that made it, and is released there when the last reference goes.
public final class LuaFunction {
    let core: StateCore
    let reference: Int32
    /// The chunk the function was loaded from, when the runtime knows it; errors without a Lua location name it.
    public let chunk: String?

    init(core: StateCore, reference: Int32, chunk: String?) {
        self.core = core
        self.reference = reference
        self.chunk = chunk
    }

    deinit {
        core.release(reference)
    }
}

@available(*, unavailable)
extension LuaFunction: Sendable {}
