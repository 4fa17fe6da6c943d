/// The Lua side of rule tests: `test`, `given`, `at`, `event`, `order`, `refund` and `expect` record steps for the
/// host, which runs them against a fresh engine after the test body returned. Loaded as internal code, so every step
/// is recorded with the test file's own line.
enum TestPrelude {
    static let chunkName = "[orbit test]"

    static let source = #"""
        local record, expectation_names, suggest = ...
        local type, error, tostring, setmetatable, ipairs = type, error, tostring, setmetatable, ipairs

        function test(name)
          if type(name) ~= "string" or name == "" then
            error("test needs a name: test \"name\" (function() ... end)", 2)
          end
          return function(body)
            if type(body) ~= "function" then
              error("test \"" .. name .. "\" needs a function: test \"" .. name .. "\" (function() ... end)", 2)
            end
            record("test", name, body)
          end
        end

        given = setmetatable({
          customer = function(fields) record("given.customer", fields) end,
        }, { __index = function(_, name) error("unknown 'given." .. tostring(name) .. "'; given.customer{ ... }", 2) end })

        function at(instant) record("at", instant) end
        function event(fields) record("event", fields) end
        function order(fields) record("order", fields) end
        function refund(fields) record("refund", fields) end
        function issued_coupon(offer)
          if type(offer) ~= "string" then error("issued_coupon needs an offer name: issued_coupon(\"win-back\")", 2) end
          return { issued_coupon = offer }
        end

        local known = {}
        expect = {}
        for _, name in ipairs(expectation_names) do
          known[name] = true
          expect[name] = function(...) record("expect." .. name, ...) end
        end
        setmetatable(expect, { __index = function(_, name)
          error("unknown expectation 'expect." .. tostring(name) .. "'" .. suggest(tostring(name), known), 2)
        end })
        """#
}
