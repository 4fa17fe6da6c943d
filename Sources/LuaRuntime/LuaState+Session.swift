import CLua

extension LuaState {
    /// A global table over the frozen base that several chunks can share: an interactive session's globals, so that
    /// `x = 1` on one line is still there on the next. Rule files never share one; each gets its own.
    public func makeEnvironment() -> LuaReference {
        core.pushFreshEnvironment()
        return LuaReference(core: core, reference: luaL_ref(core.L, orbit_registryindex()))
    }

    /// Compiles `source` like ``load(_:chunkName:internal:)``, with `environment` (from ``makeEnvironment()``) as
    /// its global table instead of a fresh one.
    public func load(_ source: String, chunkName: String, environment: LuaReference, internal: Bool = false)
        throws(LuaError) -> LuaFunction
    {
        precondition(environment.core === core, "a LuaReference can only be used on the state that made it")
        if `internal` { core.internalChunks.insert(chunkName) }
        try core.compile(source, chunkname: "=" + chunkName)
        core.pushReference(environment.reference)
        _ = lua_setupvalue(core.L, -2, 1)
        return LuaFunction(core: core, reference: luaL_ref(core.L, orbit_registryindex()), chunk: chunkName)
    }

    /// Names of the globals every chunk sees (the sandbox's libraries and what the host registered), sorted.
    public var baseGlobalNames: [String] {
        let L = core.L
        core.pushReference(core.baseEnvironmentRef)
        defer { orbit_pop(L, 1) }
        var names: [String] = []
        lua_pushnil(L)
        while lua_next(L, -2) != 0 {
            if lua_type(L, -2) == LUA_TSTRING, let name = lua_tolstring(L, -2, nil) {
                names.append(String(cString: name))
            }
            orbit_pop(L, 1)
        }
        return names.sorted()
    }
}
