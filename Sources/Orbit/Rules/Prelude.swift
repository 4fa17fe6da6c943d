/// The rule language's declarative forms, in Lua: they check the shape of what a marketer wrote (with did-you-mean
/// hints) and hand flat values to the host's definers. Loaded once per rule book, trusted, in the sandbox.
enum Prelude {
    static let chunkName = "[orbit rules]"

    static let source = #"""
        local define_segment, define_earn, define_tier, define_handler, expect_handler, suggest = ...
        local type, error, pairs, ipairs, tostring, math_type = type, error, pairs, ipairs, tostring, math.type

        -- No position: the host reports the first frame outside this prelude, which is the rule's own line.
        local function fail(message, ...) error(message:format(...), 0) end

        local function check_name(kind, name)
          if type(name) ~= "string" or name == "" then
            fail("%s needs a name: %s \"name\" { ... }", kind, kind)
          end
        end

        -- `what` names the table in the message: "segment 'vip'", "segment 'vip': spent".
        local function check_keys(what, spec, allowed)
          for key in pairs(spec) do
            if not allowed[key] then
              fail("%s: unknown field '%s'%s", what, tostring(key), suggest(tostring(key), allowed))
            end
          end
        end

        local function check_fields(kind, name, spec, allowed)
          if type(spec) ~= "table" then
            fail("%s '%s' needs a table of fields: %s \"%s\" { ... }", kind, name, kind, name)
          end
          check_keys(("%s '%s'"):format(kind, name), spec, allowed)
        end

        local function check_days(kind, name, value, field)
          if value ~= nil and (math_type(value) ~= "integer" or value <= 0) then
            fail("%s '%s': %s must be a whole number of days above 0, got %s", kind, name, field, tostring(value))
          end
        end

        -- Conditions declared as data (orders, spent, days_since_last_order, points, tagged), for segments,
        -- tiers and handlers: a list of { measure =, days =, at_least =, at_most = } and { measure = "tagged",
        -- tag = } for the host.
        local measures = { "orders", "spent", "days_since_last_order", "points" }
        local windowed = { orders = true, spent = true }

        local function add_measures(allowed)
          for _, measure in ipairs(measures) do allowed[measure] = true end
          allowed.tagged = true
          return allowed
        end

        local function check_bound(what, value, field)
          if value ~= nil and (math_type(value) ~= "integer" or value < 0) then
            fail("%s: %s must be a whole number of at least 0, got %s", what, field, tostring(value))
          end
        end

        local function check_conditions(kind, name, spec)
          local list = {}
          for _, measure in ipairs(measures) do
            local bounds = spec[measure]
            if bounds ~= nil then
              local what = ("%s '%s': %s"):format(kind, name, measure)
              local allowed = { at_least = true, at_most = true, days = windowed[measure] }
              local example = windowed[measure] and "{ at_least = 2, days = 365 }" or "{ at_least = 30 }"
              if type(bounds) ~= "table" then fail("%s needs a table: %s = %s", what, measure, example) end
              check_keys(what, bounds, allowed)
              check_bound(what, bounds.at_least, "at_least")
              check_bound(what, bounds.at_most, "at_most")
              if bounds.at_least == nil and bounds.at_most == nil then
                fail("%s needs at_least or at_most: %s = %s", what, measure, example)
              end
              if bounds.at_least ~= nil and bounds.at_most ~= nil and bounds.at_least > bounds.at_most then
                fail("%s: at_least %d is above at_most %d: nobody can meet it", what, bounds.at_least, bounds.at_most)
              end
              check_days(kind, name, bounds.days, measure .. ".days")
              list[#list + 1] = { measure = measure, days = bounds.days, at_least = bounds.at_least, at_most = bounds.at_most }
            end
          end
          local tagged = spec.tagged
          if type(tagged) == "string" then tagged = { tagged } end
          if tagged ~= nil then
            if type(tagged) ~= "table" or #tagged == 0 then
              fail("%s '%s': tagged needs a tag or a list of tags: tagged = \"winback\"", kind, name)
            end
            for _, tag in ipairs(tagged) do
              if type(tag) ~= "string" or tag == "" then
                fail("%s '%s': tagged needs tags as text, got %s", kind, name, tostring(tag))
              end
              list[#list + 1] = { measure = "tagged", tag = tag }
            end
          end
          return list
        end

        local rules = {}

        function rules.segment(name)
          check_name("segment", name)
          return function(spec)
            check_fields("segment", name, spec, add_measures({ description = true, when = true }))
            local conditions = check_conditions("segment", name, spec)
            if spec.when ~= nil and type(spec.when) ~= "function" then
              fail("segment '%s': when must be a function(c)", name)
            end
            if spec.when == nil and #conditions == 0 then
              fail("segment '%s' needs conditions: orders, spent, days_since_last_order, points, tagged "
                .. "(spent = { at_least = eur(500), days = 365 }) or when = function(c) ... end", name)
            end
            if spec.description ~= nil and type(spec.description) ~= "string" then
              fail("segment '%s': description must be text", name)
            end
            define_segment(name, spec.description, spec.when, conditions)
          end
        end

        function rules.earn(name)
          check_name("earn", name)
          return function(spec)
            check_fields("earn", name, spec, { on = true, points = true, expires = true, when = true })
            if type(spec.on) ~= "string" then fail("earn '%s' needs on = \"<event type>\"", name) end
            local points = spec.points
            if type(points) == "table" then
              check_keys(("earn '%s': points"):format(name), points, { per = true, tier_multiplier = true })
              if math_type(points.per) ~= "integer" or points.per <= 0 then
                fail("earn '%s': points.per must be a whole amount above 0 in cents, like eur(1)", name)
              end
              if points.tier_multiplier ~= nil and type(points.tier_multiplier) ~= "boolean" then
                fail("earn '%s': points.tier_multiplier must be true or false", name)
              end
            elseif type(points) ~= "function" and math_type(points) ~= "integer" then
              fail("earn '%s' needs points = <whole number>, points = { per = eur(1) } or points = function(e, c) ... end", name)
            end
            local days
            if spec.expires ~= nil then
              check_fields("earn", name, spec.expires, { days = true })
              days = spec.expires.days
              check_days("earn", name, days, "expires.days")
            end
            if spec.when ~= nil and type(spec.when) ~= "function" then
              fail("earn '%s': when must be a function(e, c)", name)
            end
            define_earn(name, spec.on, points, days, spec.when)
          end
        end

        function rules.tiers(list)
          if type(list) ~= "table" or #list == 0 then
            fail("tiers needs a list, lowest first: tiers { { name = \"silver\" }, { name = \"gold\", ... } }")
          end
          for position = 1, #list do
            local tier = list[position]
            -- A tier without a name yet is named by its place in the list (tostring(nil) would name it 'nil').
            local label = type(tier) == "table" and type(tier.name) == "string" and tier.name or ("#" .. position)
            check_fields("tier", label, tier, add_measures({ name = true, min_points = true, multiplier = true, when = true }))
            if type(tier.name) ~= "string" then fail("tier #%d needs a name", position) end
            if tier.min_points ~= nil and (math_type(tier.min_points) ~= "integer" or tier.min_points < 0) then
              fail("tier '%s': min_points must be a whole number of points", tier.name)
            end
            if tier.multiplier ~= nil and (type(tier.multiplier) ~= "number" or tier.multiplier <= 0) then
              fail("tier '%s': multiplier must be a number above 0", tier.name)
            end
            if tier.when ~= nil and type(tier.when) ~= "function" then
              fail("tier '%s': when must be a function(c)", tier.name)
            end
            local conditions = check_conditions("tier", tier.name, tier)
            define_tier(position, tier.name, tier.min_points, tier.multiplier or 1, tier.when, conditions)
          end
        end

        function rules.on(event_type)
          check_name("on", event_type)
          return function(handler)
            if type(handler) == "function" then
              if event_type == "inactive" then
                fail("on \"inactive\" needs the number of days: on \"inactive\" { days = 90 } (function(c) ... end)")
              end
              define_handler(event_type, handler)
              return
            end
            if type(handler) ~= "table" then
              fail("on \"%s\" needs a function: on \"%s\" (function(e, c) ... end)", event_type, event_type)
            end
            local label = ("on \"%s\""):format(event_type)
            if event_type ~= "inactive" and handler.days ~= nil then
              fail("%s: days is for on \"inactive\" { days = N } only", label)
            end
            check_keys(label, handler, add_measures({ days = true }))
            local conditions = check_conditions("on", event_type, handler)
            if event_type == "inactive" then
              check_days("on", event_type, handler.days, "days")
              if handler.days == nil then fail("on \"inactive\" needs days = N") end
            end
            expect_handler(label)
            return function(fn)
              if type(fn) ~= "function" then
                fail("%s { ... } needs a function: %s { ... } (function(%s) ... end)", label, label,
                  event_type == "inactive" and "c" or "e, c")
              end
              define_handler(event_type, fn, handler.days, conditions)
            end
          end
        end

        return rules.segment, rules.earn, rules.tiers, rules.on
        """#
}
