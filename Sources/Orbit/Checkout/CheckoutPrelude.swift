/// The checkout forms of the rule language, in Lua: `offer`, `coupon`, `referral`, `pay_with_points` and the
/// discount constructors (`percent_off`, `amount_off`, `buy_x_get_y`, `free_item`, `points_multiplier`, `best_of`).
/// They check the shape of what a marketer wrote (with did-you-mean hints) and hand values to the host's definers.
enum CheckoutPrelude {
    static let chunkName = "[orbit checkout]"

    static let source = #"""
        local define_offer, define_coupon, define_referral, define_points_payment, suggest = ...
        local type, error, pairs, ipairs, tostring, math_type, setmetatable, select =
          type, error, pairs, ipairs, tostring, math.type, setmetatable, select

        local function fail(message, ...) error(message:format(...), 0) end

        local function check_fields(what, spec, allowed)
          if type(spec) ~= "table" then fail("%s needs a table of fields", what) end
          for key in pairs(spec) do
            if not allowed[key] then
              fail("%s: unknown field '%s'%s", what, tostring(key), suggest(tostring(key), allowed))
            end
          end
        end

        local function whole(what, value, minimum)
          if math_type(value) ~= "integer" or value < minimum then
            fail("%s must be a whole number of at least %d, got %s", what, minimum, tostring(value))
          end
          return value
        end

        -- Discounts are plain tables; the constructors remember the ones they made (weakly), so that a table
        -- written by hand is refused with a hint instead of half-working.
        local made = setmetatable({}, { __mode = "k" })
        local function discount(fields) made[fields] = true; return fields end

        local function names(what, value)
          if value == nil then return nil end
          if type(value) == "string" then return { value } end
          if type(value) ~= "table" or #value == 0 then fail("%s must be a name or a list of names", what) end
          for _, name in ipairs(value) do
            if type(name) ~= "string" then fail("%s must be a name or a list of names", what) end
          end
          return value
        end

        local function filter_of(fn, options, extra)
          local allowed = { category = true, sku = true }
          for key in pairs(extra or {}) do allowed[key] = true end
          if options == nil then return { categories = {}, skus = {} } end
          check_fields(fn .. " options", options, allowed)
          return { categories = names(fn .. ": category", options.category) or {},
                   skus = names(fn .. ": sku", options.sku) or {} }
        end

        local function money(what, value)
          if value == nil then return 0 end
          return whole(what, value, 0)
        end

        local function percent(fn, value)
          if type(value) ~= "number" or value <= 0 or value > 100 then
            fail("%s: percent must be a number above 0 and at most 100, got %s", fn, tostring(value))
          end
          return value
        end

        local discounts = {}

        function discounts.percent_off(value, options)
          local filter = filter_of("percent_off", options, { min_subtotal = true })
          return discount { kind = "percent_off", percent = percent("percent_off", value), filter = filter,
                   minimum = money("percent_off: min_subtotal", options and options.min_subtotal) }
        end

        function discounts.amount_off(value, options)
          local filter = filter_of("amount_off", options, { min_subtotal = true })
          return discount { kind = "amount_off", amount = whole("amount_off: amount (minor units, e.g. eur(5))", value, 1),
                   filter = filter, minimum = money("amount_off: min_subtotal", options and options.min_subtotal) }
        end

        function discounts.buy_x_get_y(spec)
          check_fields("buy_x_get_y", spec, { buy = true, get = true, percent = true, category = true, sku = true })
          return discount { kind = "buy_x_get_y", buy = whole("buy_x_get_y: buy", spec.buy, 1),
                   get = whole("buy_x_get_y: get", spec.get, 1),
                   percent = spec.percent == nil and 100 or percent("buy_x_get_y", spec.percent),
                   filter = filter_of("buy_x_get_y", { category = spec.category, sku = spec.sku }) }
        end

        function discounts.free_item(spec)
          check_fields("free_item", spec, { sku = true, category = true, qty = true })
          if spec.sku == nil and spec.category == nil then fail("free_item needs sku = \"...\" or category = \"...\"") end
          return discount { kind = "free_item", qty = spec.qty == nil and 1 or whole("free_item: qty", spec.qty, 1),
                   filter = filter_of("free_item", { category = spec.category, sku = spec.sku }) }
        end

        function discounts.points_multiplier(factor, options)
          if type(factor) ~= "number" or factor <= 1 or factor > 100 then
            fail("points_multiplier: factor must be a number above 1 (2 doubles the points), got %s", tostring(factor))
          end
          return discount { kind = "points_multiplier", factor = factor, filter = filter_of("points_multiplier", options) }
        end

        function discounts.best_of(list)
          if type(list) ~= "table" or #list == 0 then fail("best_of needs a list of discounts") end
          for i, item in ipairs(list) do
            if not made[item] then
              fail("best_of: item %d is not a discount (use percent_off, amount_off, ...)", i)
            end
          end
          return discount { kind = "best_of", options = list }
        end

        -- A discount, a list of discounts, or nil: the host reads the plain fields.
        local function is_discount(value)
          if type(value) ~= "table" then return false end
          if made[value] then return true end
          if #value == 0 then return false end
          for _, item in ipairs(value) do if not made[item] then return false end end
          return true
        end

        local function check_discount(what, value)
          if type(value) == "function" then return end
          if not is_discount(value) then
            fail("%s: discount must be percent_off(...), amount_off(...), buy_x_get_y{...}, free_item{...}, "
              .. "points_multiplier(...), best_of{...}, a list of them, or function(cart, c) ... end", what)
          end
        end

        local forms = {}

        function forms.offer(name)
          if type(name) ~= "string" or name == "" then fail("offer needs a name: offer \"name\" { ... }") end
          return function(spec)
            local what = ("offer '%s'"):format(name)
            check_fields(what, spec, {
              title = true, window = true, segment = true, tier = true, first_order = true, min_orders = true,
              eligible = true, discount = true, priority = true, exclusive = true, group = true,
              per_customer = true, total_uses = true, per_day = true, per_week = true, per_month = true,
              budget = true, currency = true, coupon = true, restore_on_refund = true })
            if spec.discount == nil then fail("%s needs discount = ...", what) end
            check_discount(what, spec.discount)
            local window = spec.window
            if window ~= nil then
              check_fields(what .. " window", window, { from = true, to = true, zone = true })
              if type(window.from) ~= "string" or type(window.to) ~= "string" or type(window.zone) ~= "string" then
                fail("%s: window needs from, to and zone: { from = \"2026-11-27 00:00\", to = \"2026-11-30 23:59\", zone = \"Europe/Berlin\" }", what)
              end
            end
            for _, key in ipairs({ "segment", "tier", "group", "title", "currency" }) do
              if spec[key] ~= nil and type(spec[key]) ~= "string" then fail("%s: %s must be text", what, key) end
            end
            if spec.eligible ~= nil and type(spec.eligible) ~= "function" then
              fail("%s: eligible must be a function(c, cart)", what)
            end
            if spec.exclusive ~= nil and type(spec.exclusive) ~= "boolean" then fail("%s: exclusive must be true or false", what) end
            if spec.exclusive and spec.group ~= nil then fail("%s: an exclusive offer has no stacking group", what) end
            if spec.coupon ~= nil and type(spec.coupon) ~= "boolean" then fail("%s: coupon must be true or false", what) end
            if spec.first_order ~= nil and type(spec.first_order) ~= "boolean" then fail("%s: first_order must be true or false", what) end
            if spec.restore_on_refund ~= nil and type(spec.restore_on_refund) ~= "boolean" then
              fail("%s: restore_on_refund must be true or false", what)
            end
            local period, period_uses
            for _, key in ipairs({ "day", "week", "month" }) do
              local value = spec["per_" .. key]
              if value ~= nil then
                if period then fail("%s: give one of per_day, per_week, per_month", what) end
                period, period_uses = key, whole(what .. ": per_" .. key, value, 1)
              end
            end
            local discount_function = type(spec.discount) == "function" and spec.discount or nil
            define_offer(name, {
              title = spec.title, window = window, segment = spec.segment, tier = spec.tier,
              first_order = spec.first_order == true,
              min_orders = spec.min_orders ~= nil and whole(what .. ": min_orders", spec.min_orders, 1) or nil,
              discount = not discount_function and spec.discount or nil,
              priority = spec.priority ~= nil and whole(what .. ": priority", spec.priority, -1000000) or 0,
              exclusive = spec.exclusive == true, group = spec.group,
              per_customer = spec.per_customer ~= nil and whole(what .. ": per_customer", spec.per_customer, 1) or nil,
              total_uses = spec.total_uses ~= nil and whole(what .. ": total_uses", spec.total_uses, 1) or nil,
              period = period, period_uses = period_uses,
              budget = spec.budget ~= nil and whole(what .. ": budget (minor units, e.g. eur(10000))", spec.budget, 1) or nil,
              currency = spec.currency, coupon = spec.coupon == true,
              restore_on_refund = spec.restore_on_refund ~= false,
            }, spec.eligible, discount_function)
          end
        end

        function forms.coupon(code)
          if type(code) ~= "string" or not code:match("^[%w%-_]+$") then
            fail("coupon needs a code of letters, digits, - and _: coupon \"WELCOME10\" { offer = \"welcome\" }")
          end
          return function(spec)
            local what = ("coupon '%s'"):format(code)
            check_fields(what, spec, { offer = true, uses = true, per_customer = true, expires = true, zone = true })
            if type(spec.offer) ~= "string" then fail("%s needs offer = \"<offer name>\"", what) end
            if (spec.expires == nil) ~= (spec.zone == nil) then
              fail("%s: expires and zone go together: expires = \"2026-12-31 23:59\", zone = \"Europe/Berlin\"", what)
            end
            define_coupon(code, spec.offer, spec.uses ~= nil and whole(what .. ": uses", spec.uses, 1) or 1,
              spec.per_customer ~= nil and whole(what .. ": per_customer", spec.per_customer, 1) or nil,
              spec.expires, spec.zone)
          end
        end

        function forms.referral(spec)
          check_fields("referral", spec, { referee = true, referrer = true })
          check_fields("referral referee", spec.referee, { discount = true, first_order_only = true })
          check_fields("referral referrer", spec.referrer, { points = true, after_days = true, expires = true })
          check_discount("referral referee", spec.referee.discount)
          if type(spec.referee.discount) == "function" then fail("referral referee: discount must be a discount, not a function") end
          local expires
          if spec.referrer.expires ~= nil then
            check_fields("referral referrer expires", spec.referrer.expires, { days = true })
            expires = whole("referral referrer: expires.days", spec.referrer.expires.days, 1)
          end
          define_referral(spec.referee.discount, spec.referee.first_order_only ~= false,
            whole("referral referrer: points", spec.referrer.points, 1),
            spec.referrer.after_days ~= nil and whole("referral referrer: after_days", spec.referrer.after_days, 0) or 14,
            expires)
        end

        function forms.pay_with_points(spec)
          check_fields("pay_with_points", spec, { points = true, worth = true, max_percent = true, min_points = true })
          define_points_payment(whole("pay_with_points: points", spec.points, 1),
            whole("pay_with_points: worth (minor units, e.g. eur(1))", spec.worth, 1),
            spec.max_percent ~= nil and whole("pay_with_points: max_percent", spec.max_percent, 1) or 100,
            spec.min_points ~= nil and whole("pay_with_points: min_points", spec.min_points, 0) or 0)
        end

        return forms.offer, forms.coupon, forms.referral, forms.pay_with_points,
          discounts.percent_off, discounts.amount_off, discounts.buy_x_get_y, discounts.free_item,
          discounts.points_multiplier, discounts.best_of
        """#
}
