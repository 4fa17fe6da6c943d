import CLua

/// The Swift body of a function callable from Lua. It reads its arguments from the stack and pushes its results;
/// it reports failure by throwing, and the error is raised in Lua only after this Swift frame has returned.
public typealias LuaHostFunctionBody = (inout LuaStack) throws -> Void

/// A Swift function as Lua sees it: kept alive by a userdata upvalue of the C trampoline closure.
final class HostFunction {
    let name: String
    let body: LuaHostFunctionBody

    init(name: String, body: @escaping LuaHostFunctionBody) {
        self.name = name
        self.body = body
    }
}

/// The Swift side of `orbit_trampoline`: runs the body and returns the result count, or `ORBIT_RAISE` with the error
/// value pushed. Never raises itself.
let hostFunctionDispatch: orbit_host_dispatch = { L in
    let block = orbit_limits_of(L).unsafelyUnwrapped
    block.pointee.host_depth += 1
    defer { block.pointee.host_depth -= 1 }
    // The box and the core are kept alive by the closure's upvalue and by the state: no reference counting here.
    return Unmanaged<HostFunction>.fromOpaque(retainedPointer(in: L, at: orbit_upvalueindex(1)))
        ._withUnsafeGuaranteedRef { function in
            Unmanaged<StateCore>.fromOpaque(block.pointee.host)._withUnsafeGuaranteedRef { core in
                var stack = LuaStack(core: core, base: 0, function: function.name)
                do {
                    try function.body(&stack)
                    guard !stack.overflowed else { throw StackExhausted(function: function.name) }
                    return stack.pushedCount
                } catch is MemoryLimitExceeded {
                    return ORBIT_RAISE_MEMORY
                } catch let error as LuaError where error.kind == .memoryLimit {
                    return ORBIT_RAISE_MEMORY  // a nested call hit the cap: keep it a memory error
                } catch {
                    core.pushError(error, function: function.name)
                    return ORBIT_RAISE
                }
            }
        }
}

/// A host function needs more memory than the cap leaves; raised in Lua as Lua's own memory error.
struct MemoryLimitExceeded: Error {}

/// A host function pushed more values than the Lua stack can take.
struct StackExhausted: Error, CustomStringConvertible {
    var function: String
    var description: String { "\(function): stack overflow (too many values)" }
}

/// `__gc` of every userdata that holds a retained Swift object: releases it once.
let releaseRetainedObject: lua_CFunction = { L in
    guard let slot = lua_touserdata(L, 1)?.assumingMemoryBound(to: UnsafeMutableRawPointer?.self),
        let object = slot.pointee
    else { return 0 }
    slot.pointee = nil
    Unmanaged<AnyObject>.fromOpaque(object).release()
    return 0
}

/// The retained Swift object a userdata at `index` holds. Only for userdata the runtime made.
func retainedPointer(in L: OpaquePointer?, at index: Int32) -> UnsafeMutableRawPointer {
    // Host-function upvalues always hold a pointer until their __gc ran, after which Lua can no longer reach them.
    lua_touserdata(L, index).unsafelyUnwrapped.load(as: UserdataLayout.self).object.unsafelyUnwrapped
}

extension StateCore {
    /// Pushes a Lua function that runs `function`.
    func pushHostFunction(_ function: HostFunction) {
        pushUserdata(function, tag: nil, metatableRef: hostFunctionMetatableRef)
        orbit_push_host_function(L, 1)
    }

    /// Creates the metatable that releases host-function boxes. Called once while the state is set up.
    func registerHostFunctionMetatable() {
        lua_createtable(L, 0, 2)
        lua_pushcclosure(L, releaseRetainedObject, 0)
        lua_setfield(L, -2, "__gc")
        lua_pushboolean(L, 0)
        lua_setfield(L, -2, "__metatable")
        hostFunctionMetatableRef = luaL_ref(L, orbit_registryindex())
    }

    /// Pushes the Lua error value for a Swift error thrown by a host function.
    func pushError(_ error: any Error, function: String) {
        if isInterrupted {
            pushInterrupt()
            return
        }
        let message: String
        switch error {
        case let error as LuaError: message = error.description
        case let error as LuaArgumentError: message = error.description
        case let error as ObjectFieldError: message = error.description
        case let error as ObjectGoneError: message = error.description
        case let error as ReadOnlyObjectError: message = error.description
        case let error as StackExhausted: message = error.description
        default: message = "\(function): \(error)"
        }
        lua_pushstring(L, message)
    }

    /// Installs the message handler every protected call uses: it records where the error happened and a
    /// traceback, and passes the error value through unchanged.
    func registerMessageHandler() {
        pushHostFunction(
            HostFunction(name: "message handler") { stack in
                stack.core.recordErrorSite()
                lua_pushvalue(stack.core.L, 1)
                stack.pushedCount += 1
            })
        messageHandlerRef = luaL_ref(L, orbit_registryindex())
    }

    /// Finds the innermost Lua frame (or the one Lua's own `chunk:line:` prefix names) and takes a traceback.
    func recordErrorSite() {
        var frames: [(chunk: String, shortName: String, line: Int)] = []
        var record = lua_Debug()
        var level: Int32 = 1
        while frames.count < 16, lua_getstack(L, level, &record) != 0 {
            _ = lua_getinfo(L, "Sl", &record)
            if record.currentline > 0 {
                let shortName = withUnsafeBytes(of: record.short_src) { bytes in
                    String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                var chunk = record.source.map { String(cString: $0) } ?? shortName
                if chunk.hasPrefix("=") || chunk.hasPrefix("@") { chunk.removeFirst() } else { chunk = shortName }
                // The sandbox's wrappers and a host's prelude stand in for library functions: report their caller.
                if !internalChunks.contains(chunk) { frames.append((chunk, shortName, Int(record.currentline))) }
            }
            level += 1
        }
        var raw = describeErrorValue(at: 1)
        // A C function called by internal Lua prefixes that code's line; the caller's frame is the location.
        for chunk in internalChunks {
            if case (.some, let message) = Self.splitLocation(raw, chunk: chunk) { raw = message }
        }
        var site = ErrorSite(chunk: frames.first?.chunk, line: frames.first?.line, message: raw)
        for frame in frames {
            let (line, message) = Self.splitLocation(raw, chunk: frame.shortName)
            if let line {
                site = ErrorSite(chunk: frame.chunk, line: line, message: message)
                break
            }
        }
        luaL_traceback(L, L, nil, 1)
        site.traceback = describeErrorValue(at: -1)
        orbit_pop(L, 1)
        lastErrorSite = site
    }
}
