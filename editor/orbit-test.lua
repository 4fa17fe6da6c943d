---@meta orbit-test
-- LuaLS annotations for Orbit's rule tests (`*_test.lua` beside the rules, run by `orbit test`).
-- Tests/OrbitTests/EditorAnnotationTests.swift keeps the expect.* list in step with the runtime.

---Declares a test: `test "vip after a big order" (function() … end)`.
---@param name string
---@return fun(body: fun())
function test(name) end

---Sets the test's clock (and runs lapses that came due): `at "2026-11-27T09:00:00+01:00"`.
---@param instant string ISO 8601 with a zone.
function at(instant) end

---@class orbit.test.EventSpec
---@field type string
---@field customer string
---@field total? orbit.Cents `eur(60)`; the currency defaults to EUR.
---@field at? string Defaults to the test's clock.
---@field id? string Defaults to a new id.
---@field order? string
---@field [string] any Further event data.

---Sends an event through the engine: `event{ type = "purchase", customer = "anna", total = eur(60) }`.
---@param spec orbit.test.EventSpec
function event(spec) end

---@class orbit.test.CartLine
---@field sku string
---@field category? string
---@field qty? integer Default 1.
---@field price orbit.Cents Per unit: `eur(129.99)`.

---@class orbit.test.IssuedCoupon

---@class orbit.test.CartSpec
---@field customer string
---@field lines orbit.test.CartLine[]
---@field coupons? (string|orbit.test.IssuedCoupon)[] Codes, or `issued_coupon("win-back")`.
---@field points? integer Points the customer wants to pay with.
---@field referral_code? string
---@field currency? string Default `"EUR"`.

---@class orbit.test.OrderSpec: orbit.test.CartSpec
---@field id string The order id.

---Commits an order at the test's clock: caps, budgets, coupons and points are used up as in the shop.
---A refused order fails the test unless `expect.rejected` follows:
---`order{ id = "o-1", customer = "anna", lines = { { sku = "RUN-42", category = "shoes", price = eur(129.99) } } }`.
---@param spec orbit.test.OrderSpec
function order(spec) end

---@class orbit.test.RefundLine
---@field line integer The cart line, from 1.
---@field qty integer Units refunded.

---@class orbit.test.RefundSpec
---@field order string The order id.
---@field id? string The refund id; defaults to a new one.
---@field lines? orbit.test.RefundLine[] Without: everything left of the order.

---Refunds an order at the test's clock: points are taken back, budgets and (for a full refund) uses given back.
---A refused refund fails the test unless `expect.rejected` follows: `refund{ order = "o-1" }`.
---@param spec orbit.test.RefundSpec
function refund(spec) end

---The latest coupon issued to the cart's customer for `offer` during the test (e.g. by a win-back handler), for
---`coupons = { issued_coupon("win-back") }`.
---@param offer string
---@return orbit.test.IssuedCoupon
function issued_coupon(offer) end

---@class orbit.test.CustomerSpec
---@field id string
---@field signed_up_at? string
---@field consent? orbit.Consent
---@field attributes? table<string, any>
---@field tags? string[]
---@field points? integer Points available (also counted as earned).
---@field tier? string
---@field referral_code? string
---@field referrer? string

---@class orbit.test.Given
given = {}

---A customer as the store would hold them: `given.customer{ id = "anna", consent = { email = true } }`.
---@param spec orbit.test.CustomerSpec
function given.customer(spec) end

---@class orbit.test.EffectPattern
---@field kind? "award"|"deduct"|"tag"|"untag"|"set"|"send"|"emit"|"skipped"
---@field detail? string e.g. `"600 points"`, `"email win-back"`.
---@field rule? string The rule's name or part of it (`"welcome.lua"`).

---@class orbit.test.Expect
expect = {}

---@param customer string
---@param segment string
function expect.segment(customer, segment) end

---@param customer string
---@param segment string
function expect.not_segment(customer, segment) end

---@param customer string
---@param points integer Points available.
function expect.points(customer, points) end

---@param customer string
---@param tier string|nil
function expect.tier(customer, tier) end

---@param customer string
---@param tag string
function expect.tag(customer, tag) end

---@param customer string
---@param tag string
function expect.no_tag(customer, tag) end

---@param customer string
---@param key string
---@param value any
function expect.attribute(customer, key, value) end

---A message queued in the outbox (with consent) at any time in the test.
---@param customer string
---@param template string
function expect.message(customer, template) end

---An effect of the last event: `expect.effect{ kind = "award", detail = "600 points" }`.
---@param pattern orbit.test.EffectPattern
function expect.effect(pattern) end

---No such effect in the last event.
---@param pattern orbit.test.EffectPattern
function expect.no_effect(pattern) end

---The last event was rejected (its reason containing `reason`, when given).
---@param reason? string
function expect.rejected(reason) end

---@class orbit.test.QuoteSpec: orbit.test.CartSpec
---@field subtotal? orbit.Cents
---@field discount? orbit.Cents
---@field total? orbit.Cents After discounts.
---@field total_due? orbit.Cents After discounts and points.
---@field points_to_earn? integer
---@field points_to_redeem? integer
---@field points_value? orbit.Cents
---@field applied? string[]|table<string, orbit.Cents> Exactly these offers (with these discounts, as a table).
---@field not_applied? table<string, string> Offer = reason code (`"outside_window"`, `"coupon_required"`, …).

---Prices a cart at the test's clock and compares every field given:
---`expect.quote{ customer = "anna", lines = { … }, applied = { "black-week" }, total = eur(104) }`.
---@param spec orbit.test.QuoteSpec
function expect.quote(spec) end
