import CLua

/// `string.find`, `match`, `gmatch` and `gsub` for the sandbox. Lua's own C versions can backtrack for minutes
/// inside one call that no hook interrupts; these run the Swift matcher, whose steps count against the call's
/// instruction budget, with Lua 5.4's semantics and messages.
enum PatternLibrary {
    static var functions: [String: LuaHostFunctionBody] {
        ["find": find, "match": match, "gmatch": gmatch, "gsub": gsub]
    }

    private static func find(_ stack: inout LuaStack) throws {
        try findOrMatch(&stack, find: true)
    }

    private static func match(_ stack: inout LuaStack) throws {
        try findOrMatch(&stack, find: false)
    }

    private static func findOrMatch(_ stack: inout LuaStack, find: Bool) throws {
        let name = find ? "find" : "match"
        let subject = try stack.rawBytes(at: 1, function: name)
        let pattern = try stack.rawBytes(at: 2, function: name)
        let initial = stack.isNil(at: 3) ? 1 : Int(try stack.integer(at: 3))
        let plain = stack.bool(at: 4)
        let found = try metered(stack.core) { budget in
            if find {
                try luaFind(subject: subject, pattern: pattern, initial: initial, plain: plain, budget: &budget)
                    .map { ($0.start, $0.end, $0.captures) }
            } else {
                try luaMatch(subject: subject, pattern: pattern, initial: initial, budget: &budget).map { (0, 0, $0) }
            }
        }
        guard let found else {
            stack.push(.nil)
            return
        }
        if find {
            stack.push(Int64(found.0))
            stack.push(Int64(found.1))
        }
        for capture in found.2 { push(capture, of: subject, on: &stack) }
    }

    private static func gmatch(_ stack: inout LuaStack) throws {
        let subject = Array(try stack.rawBytes(at: 1, function: "gmatch"))
        let pattern = Array(try stack.rawBytes(at: 2, function: "gmatch"))
        let initial = stack.isNil(at: 3) ? 1 : Int(try stack.integer(at: 3))
        // The iterator keeps copies outside Lua's heap: they count against the cap for as long as it lives.
        let held = subject.count + pattern.count
        try stack.core.reserveHostMemory(held)
        guard stack.core.charge(instructions: held >> 4) else {
            stack.core.releaseHostMemory(held)
            throw LimitInterrupt()
        }
        let iteration = GmatchIteration(
            LuaGmatchIterator(subject: subject, pattern: pattern, initial: initial), core: stack.core, held: held)
        stack.push(function: "gmatch iterator") { stack in
            let captures = try metered(stack.core) { budget in try iteration.iterator.next(budget: &budget) }
            guard let captures else {
                stack.push(.nil)
                return
            }
            subject.withUnsafeBufferPointer { bytes in
                for capture in captures { push(capture, of: bytes, on: &stack) }
            }
        }
    }

    private static func gsub(_ stack: inout LuaStack) throws {
        let core = stack.core
        let subject = Array(try stack.rawBytes(at: 1, function: "gsub"))
        let pattern = Array(try stack.rawBytes(at: 2, function: "gsub"))
        let replacementType = stack.typeName(at: 3)
        let replacementString: [UInt8]?
        switch replacementType {
        case "string", "number": replacementString = Array(try stack.rawBytes(at: 3, function: "gsub"))
        case "table", "function": replacementString = nil
        default:
            throw LuaArgumentError(
                function: "gsub", position: 3, problem: "string/function/table expected, got \(replacementType)")
        }
        let limit = stack.isNil(at: 4) ? nil : Int(try stack.integer(at: 4))
        guard core.charge(instructions: subject.count >> 4) else { throw LimitInterrupt() }
        var iterator = LuaGsubIterator(subject: subject, pattern: pattern, maxReplacements: limit)
        // The result grows in Swift: count it against the cap and the budget as it grows, not only at the end.
        var produced = subject.count
        while let (wholeMatch, captures) = try metered(core, { budget in try iterator.next(budget: &budget) })
            .map({ ($0.wholeMatch, $0.captures) })
        {
            let text: [UInt8]?
            if let replacementString {
                text = try luaExpandReplacement(
                    replacementString, subject: subject, wholeMatch: wholeMatch, captures: captures)
            } else {
                text = try replacement(
                    &stack, isFunction: replacementType == "function", subject: subject, wholeMatch: wholeMatch,
                    captures: captures)
            }
            produced += text?.count ?? 0
            guard produced <= core.memoryHeadroom else { throw MemoryLimitExceeded() }
            guard core.charge(instructions: (text?.count ?? 0) >> 6) else { throw LimitInterrupt() }
            iterator.replaceCurrentMatch(with: text)
        }
        let (result, count) = iterator.finish()
        try core.ensureHeadroom(bytes: result.count)
        stack.push(bytes: result)
        stack.push(Int64(count))
    }

    /// Asks the table (`t[capture]`) or the function (`f(captures...)`) at argument 3 for a match's replacement,
    /// through a protected call, so that metamethods and the function may raise without unwinding this frame.
    private static func replacement(
        _ stack: inout LuaStack, isFunction: Bool, subject: [UInt8], wholeMatch: Range<Int>,
        captures: [LuaPatternCapture]
    ) throws -> [UInt8]? {
        let core = stack.core
        let L = core.L
        let arguments =
            isFunction
            ? luaGsubCallArguments(wholeMatch: wholeMatch, captures: captures)
            : [luaGsubLookupValue(wholeMatch: wholeMatch, captures: captures)]
        guard lua_checkstack(L, Int32(arguments.count) + 4) != 0 else { throw StackExhausted(function: "gsub") }
        if isFunction {
            lua_pushvalue(L, 3)
        } else {
            core.pushReference(core.indexFunctionRef)
            lua_pushvalue(L, 3)
        }
        var pushed = LuaStack(core: core, base: lua_gettop(L), function: "gsub")
        subject.withUnsafeBufferPointer { bytes in
            for argument in arguments { push(argument, of: bytes, on: &pushed) }
        }
        try core.protectedCall(argumentCount: Int32(arguments.count) + (isFunction ? 0 : 1), chunk: nil)
        defer { orbit_pop(L, 1) }
        switch lua_type(L, -1) {
        case LUA_TNIL: return nil
        case LUA_TBOOLEAN where lua_toboolean(L, -1) == 0: return nil
        case LUA_TSTRING, LUA_TNUMBER:
            var length = 0
            let bytes = lua_tolstring(L, -1, &length)
            return Array(UnsafeRawBufferPointer(start: bytes, count: length))
        default:
            throw LuaError(
                kind: .runtime,
                message: "invalid replacement value (a \(String(cString: orbit_typename(L, -1))))")
        }
    }

    /// Runs `body` with the rest of the call's instruction budget and charges what it used. An exhausted budget
    /// trips the instruction limit; a malformed pattern becomes Lua's own message.
    private static func metered<Result>(
        _ core: StateCore, _ body: (inout LuaPatternBudget) throws -> Result
    ) throws -> Result {
        let available = core.remainingInstructions
        var budget = LuaPatternBudget(remaining: available)
        do {
            let result = try body(&budget)
            guard core.charge(instructions: available - budget.remaining) else { throw LimitInterrupt() }
            return result
        } catch is LuaPatternBudgetExceeded {
            core.tripInstructionLimit()
            throw LimitInterrupt()
        } catch let error as LuaPatternError {
            _ = core.charge(instructions: available - budget.remaining)
            throw LuaError(kind: .runtime, message: error.message)
        }
    }

    private static func push(
        _ capture: LuaPatternCapture, of subject: UnsafeBufferPointer<UInt8>, on stack: inout LuaStack
    ) {
        switch capture {
        case .substring(let range): stack.push(bytes: subject[range])
        case .position(let position): stack.push(Int64(position))
        }
    }
}

/// The mutable state of one `gmatch` loop, owned by its iterator closure.
private final class GmatchIteration {
    var iterator: LuaGmatchIterator
    /// The state outlives every closure it holds (it closes them in its own deinit).
    unowned(unsafe) let core: StateCore
    let held: Int

    init(_ iterator: LuaGmatchIterator, core: StateCore, held: Int) {
        self.iterator = iterator
        self.core = core
        self.held = held
    }

    deinit {
        core.releaseHostMemory(held)
    }
}

extension LuaStack {
    /// The bytes of the string (or number) argument at `position`, in place. Valid while the argument stays on the
    /// stack, which holds for the whole host-function call.
    func rawBytes(at position: Int, function: String) throws(LuaArgumentError) -> UnsafeBufferPointer<UInt8> {
        try withBytes(at: position) { $0.assumingMemoryBound(to: UInt8.self) }
    }
}
