import LuaRuntime
import Synchronization
import Testing

/// Counts its live instances, to prove that failing callbacks leak nothing.
final class Tracked {
    static let live = Atomic<Int>(0)
    init() { Self.live.add(1, ordering: .relaxed) }
    deinit { Self.live.subtract(1, ordering: .relaxed) }
}

/// A host object exposed as userdata.
final class Shopper {
    let id: String
    let orders: [Int64]
    var fieldReads = 0

    init(id: String, orders: [Int64]) {
        self.id = id
        self.orders = orders
    }
}

@Suite("Swift functions and objects in Lua", .serialized)
struct HostFunctionTests {
    @Test("a Swift function is callable from Lua and returns values")
    func callSwiftFunction() throws {
        let lua = try makeState()
        lua.register(function: "eur") { stack in
            stack.push(try stack.integer(at: 1) * 100)
        }
        #expect(try lua.run("return eur(5) + eur(2)", chunkName: "money.lua") == [700])
    }

    @Test("argument errors name the function and the argument, at the caller's line")
    func argumentErrors() throws {
        let lua = try makeState()
        lua.register(function: "eur") { stack in stack.push(try stack.integer(at: 1) * 100) }
        let error = expectFailure(lua, "local x = 1\nreturn eur('five')", chunk: "rules/price.lua")
        #expect(error?.description == "rules/price.lua:2: bad argument #1 to 'eur' (number expected, got string)")
        let missing = expectFailure(lua, "return eur()", chunk: "rules/price.lua")
        #expect(missing?.message == "bad argument #1 to 'eur' (number expected, got no value)")
        let fraction = expectFailure(lua, "return eur(1.5)", chunk: "rules/price.lua")
        #expect(fraction?.message == "bad argument #1 to 'eur' (number has no integer representation)")
    }

    @Test("a Swift error thrown by a callback becomes a Lua error that pcall can catch")
    func callbackErrors() throws {
        struct OutOfStock: Error, CustomStringConvertible {
            var description: String { "sku A1 is out of stock" }
        }
        let lua = try makeState()
        lua.register(function: "reserve") { _ in throw OutOfStock() }
        let error = expectFailure(lua, "\nreserve()", chunk: "rules/stock.lua")
        #expect(error?.description == "rules/stock.lua:2: reserve: sku A1 is out of stock")
        let caught = try lua.run("return pcall(reserve)", chunkName: "rules/stock.lua")
        #expect(caught == [false, "reserve: sku A1 is out of stock"])
    }

    @Test("1,000 failing callbacks holding class instances leak none of them")
    func failingCallbacksLeakNothing() throws {
        struct Refused: Error {}
        let before = Tracked.live.load(ordering: .relaxed)
        let lua = try makeState()
        lua.register(function: "fail") { stack in
            let held = Tracked()
            let alsoHeld = [Tracked(), Tracked()]
            _ = (held, alsoHeld, try stack.integer(at: 1))
            throw Refused()
        }
        let failures = try lua.run(
            """
            local failures = 0
            for i = 1, 1000 do
              if not pcall(fail, i) then failures = failures + 1 end
            end
            return failures
            """, chunkName: "rules/fail.lua")
        #expect(failures == [1000])
        #expect(Tracked.live.load(ordering: .relaxed) == before)
    }

    @Test("a Lua function kept by reference is compiled once and called many times")
    func functionReferences() throws {
        let lua = try makeState()
        let points = try loadFunction(lua, "function(total) return total // 100 end")
        for (total, expected) in [(4999, 49), (100, 1), (0, 0)] as [(LuaValue, LuaValue)] {
            #expect(try lua.call(points, total) == [expected])
        }
        lua.register(function: "keep") { stack in
            let function = try stack.function(at: 1)
            stack.push(try lua.call(function, 4999)[0])
        }
        #expect(try lua.run("return keep(function(x) return x * 2 end)", chunkName: "k.lua") == [9998])
    }

    @Test("host objects expose fields and methods on demand, with a locked metatable")
    func userdataObjects() throws {
        let lua = try makeState()
        let shopperType = LuaObjectType<Shopper>(name: "customer")
        shopperType.field("id") { shopper in
            shopper.fieldReads += 1
            return .string(shopper.id)
        }
        shopperType.field("order_count") { .integer(Int64($0.orders.count)) }
        shopperType.method("spent") { shopper, stack in
            let last = stack.isNil(at: 1) ? shopper.orders.count : Int(try stack.integer(at: 1))
            stack.push(shopper.orders.suffix(last).reduce(0, +))
        }
        lua.register(shopperType)
        let anna = Shopper(id: "c-42", orders: [1000, 2500, 4000])
        let view = try loadFunction(
            lua, "function(c) return c.id, c.order_count, c:spent(2), c:spent(), getmetatable(c) end")
        let values = try lua.call(view) { stack in
            stack.push(anna, as: shopperType)
        } results: { results in
            try (0..<results.count).map { try results.value(at: $0 + 1) }
        }
        #expect(values == ["c-42", 3, 6500, 7500, false])
        #expect(anna.fieldReads == 1)

        let typo = #expect(throws: LuaError.self) {
            try lua.call(try loadFunction(lua, "function(c) return c.odrer_count end")) { stack in
                stack.push(anna, as: shopperType)
            } results: { _ in () }
        }
        #expect(typo?.message == "customer has no field 'odrer_count'")

        let badSelf = #expect(throws: LuaError.self) {
            try lua.call(try loadFunction(lua, "function(c) return c.spent(42) end")) { stack in
                stack.push(anna, as: shopperType)
            } results: { _ in () }
        }
        #expect(badSelf?.message == "calling 'spent' on bad self (customer expected, got number)")

        let assignment = #expect(throws: LuaError.self) {
            try lua.call(try loadFunction(lua, "function(c) c.order_count = 0 end")) { stack in
                stack.push(anna, as: shopperType)
            } results: { _ in () }
        }
        #expect(assignment?.message == "attempt to modify read-only customer (field 'order_count')")
    }

    @Test("a type with open fields reads every other name through one function; what it lacks is nil")
    func openFields() throws {
        let lua = try makeState()
        let shopperType = LuaObjectType<Shopper>(name: "event")
        shopperType.field("id") { .string($0.id) }
        shopperType.otherFields { shopper, name, stack in
            stack.push(name == "order_total" ? .integer(shopper.orders.reduce(0, +)) : .nil)
        }
        lua.register(shopperType)
        let values = try lua.call(try loadFunction(lua, "function(e) return e.id, e.order_total, e.not_sent, e[1] end")) {
            $0.push(Shopper(id: "e-1", orders: [100, 250]), as: shopperType)
        } results: { results in try (1...4).map { try results.value(at: $0) } }
        #expect(values == ["e-1", 350, .nil, .nil])
        let assignment = #expect(throws: LuaError.self) {
            try lua.call(try loadFunction(lua, "function(e) e.not_sent = 1 end")) {
                $0.push(Shopper(id: "e-1", orders: []), as: shopperType)
            } results: { _ in () }
        }
        #expect(assignment?.message == "attempt to modify read-only event (field 'not_sent')")
    }

    @Test("an observed type reports what a pushed field showed, a read-only table as the table it shows")
    func observedPushedField() throws {
        final class Reads { var values: [String: LuaValue] = [:] }
        let lua = try makeState()
        let tier = try lua.reference(to: .map(["name": "gold", "multiplier": 2]), name: "tier")
        let shopperType = LuaObjectType<Shopper>(name: "customer")
        shopperType.field("tier", pushing: { _, stack in stack.push(tier) })
        shopperType.otherFields { shopper, name, stack in stack.push(name == "id" ? .string(shopper.id) : .nil) }
        let reads = Reads()
        let observed = shopperType.observed { member, _, result in reads.values[member] = result }
        lua.register(observed)
        let name = try lua.call(try loadFunction(lua, "function(c) return c.tier.name .. c.id end")) {
            $0.push(Shopper(id: "-1", orders: []), as: observed)
        } results: { try $0.value(at: 1) }
        #expect(name == "gold-1")
        #expect(reads.values == ["tier": .map(["name": "gold", "multiplier": 2]), "id": "-1"])
    }

    @Test("a slot shows an object while it is lent further up through a userdata of the object's own")
    func showWhileLent() throws {
        let lua = try makeState()
        let shopperType = LuaObjectType<Shopper>(name: "customer")
        shopperType.field("id") { .string($0.id) }
        lua.register(shopperType)
        let slot = lua.objectSlot(for: shopperType)
        let read = try loadFunction(lua, "function(c) return c.id end")
        let ids = try slot.show(Shopper(id: "anna", orders: [])) { outer in
            #expect(slot.isLent)
            let inner = try slot.show(Shopper(id: "ben", orders: [])) { inner in
                try lua.call(read) { $0.push(inner) } results: { try $0.value(at: 1) }
            }
            return [try lua.call(read) { $0.push(outer) } results: { try $0.value(at: 1) }, inner]
        }
        #expect(ids == ["anna", "ben"])
        #expect(!slot.isLent)
    }

    @Test("a lent object is seen only during its lending; kept beyond it, reading it is a clear error")
    func lentObjects() throws {
        let lua = try makeState()
        let shopperType = LuaObjectType<Shopper>(name: "customer")
        shopperType.field("id") { .string($0.id) }
        shopperType.method("spent") { shopper, stack in stack.push(shopper.orders.reduce(0, +)) }
        lua.register(shopperType)
        let slot = lua.objectSlot(for: shopperType)
        let chunk = try lua.load(
            """
            local kept
            return function(c) kept = c return c.id, c:spent() end,
                   function() return kept.id end,
                   function() return kept:spent() end,
                   function() kept.id = "x" end
            """, chunkName: "rules/kept.lua")
        let (read, keptField, keptMethod, keptAssignment) = try lua.call(chunk) { _ in } results: {
            (try $0.function(at: 1), try $0.function(at: 2), try $0.function(at: 3), try $0.function(at: 4))
        }
        for shopper in [Shopper(id: "anna", orders: [100, 250]), Shopper(id: "ben", orders: [7])] {
            let values = try slot.lend(shopper) { c in
                try lua.call(read) { $0.push(c) } results: { [try $0.value(at: 1), try $0.value(at: 2)] }
            }
            #expect(values == [.string(shopper.id), .integer(shopper.orders.reduce(0, +))])
            #expect(!slot.isLent)
        }
        // Read (or assigned) while another object is lent: an error, never that other object.
        for (function, line) in [(keptField, 3), (keptMethod, 4), (keptAssignment, 5)] {
            let error = #expect(throws: LuaError.self) {
                try slot.lend(Shopper(id: "carla", orders: [1])) { _ in
                    try lua.call(function) { _ in } results: { _ in () }
                }
            }
            #expect(error?.message == "this customer is no longer available: it was kept beyond the call it was passed to")
            #expect(error?.line == line)
        }
    }
}

/// Loads `return <expression>` and returns the function the chunk returns.
func loadFunction(_ lua: LuaState, _ expression: String) throws -> LuaFunction {
    let chunk = try lua.load("return \(expression)", chunkName: "rules/inline.lua")
    return try lua.call(chunk) { _ in } results: { results in try results.function(at: 1) }
}
