---@meta orbit
-- LuaLS annotations for Orbit's rule language: completion, hover docs and type checks in VS Code, Neovim and any
-- editor with lua-language-server. Setup: editor/README.md. Guide: docs/rules.md.
-- A test (Tests/OrbitTests/EditorAnnotationTests.swift) fails when this file and the runtime disagree: every global
-- function below must be one the rules can call, and every field and method of orbit.Customer one `c` has.

---Money in minor units (cents): `eur(49.99)` is `4999`.
---@alias orbit.Cents integer

---A window into the past: `{ days = 365 }`.
---@class orbit.Window
---@field days integer Days back from now, above 0.

---@class orbit.Tier
---@field name string|nil The tier's name, `nil` before the first tier evaluation.
---@field multiplier number Points multiplier of the tier (1 without a tier).

---@class orbit.Consent
---@field email boolean
---@field push boolean
---@field sms boolean
---@field whatsapp boolean

---What a rule sees of a customer (`c`): read-only, computed when read, at the instant of the event.
---@class orbit.Customer
---@field id string The shop's customer id.
---@field signed_up_at string ISO 8601 instant (UTC) of the sign-up.
---@field days_since_signup integer Whole days since the sign-up.
---@field points integer Points available now.
---@field points_earned integer Points earned over the customer's life (spending never lowers it).
---@field order_count integer Orders, all time.
---@field lifetime_spend orbit.Cents Spend over the customer's life, net of refunds.
---@field first_order_at string|nil ISO 8601 instant of the first order.
---@field last_order_at string|nil ISO 8601 instant of the last order.
---@field days_since_last_order integer|nil Whole days since the last order; `nil` without orders.
---@field tier orbit.Tier The tier the customer holds.
---@field tags string[] Tags, sorted.
---@field attributes table<string, any> The shop's attributes (`c.attributes.city`).
---@field consent orbit.Consent Consent per channel.
---@field referral_code string|nil The customer's own referral code.
---@field referrer string|nil Id of the customer who referred them.
---@field p_alive number|nil Probability the customer is still active (BG/NBD), after `orbit fit`.
---@field expected_purchases number|nil Purchases expected over the fit's horizon, after `orbit fit`.
---@field expected_order_value orbit.Cents|nil Expected order value (Gamma-Gamma), after `orbit fit`.
---@field predicted_clv orbit.Cents|nil Predicted value over the fit's horizon, after `orbit fit`.
local Customer = {}

---Spend in cents over a window (all time without one): `c:spent{ days = 365 } >= eur(500)`.
---@param window? orbit.Window
---@return orbit.Cents
function Customer:spent(window) end

---Orders over a window (all time without one): `c:orders{ days = 90 } >= 2`.
---@param window? orbit.Window
---@return integer
function Customer:orders(window) end

---Whether the customer has a tag: `c:has_tag("winback")`.
---@param tag string
---@return boolean
function Customer:has_tag(tag) end

---Whether the customer is in a segment: `c:in_segment("vip")`.
---@param segment string
---@return boolean
function Customer:in_segment(segment) end

---A deterministic A/B bucket: the same customer always lands in the same bucket of an experiment.
---`c:bucket("winback-2026", { control = 10, coupon = 90 }) == "coupon"`
---@param experiment string
---@param weights table<string, integer> Bucket name → whole-number weight.
---@return string
function Customer:bucket(experiment, weights) end

---An event as rules see it: its own fields and every field of its data (`nil` when not sent). Read-only, read by
---name (`pairs(e)` does not list the fields), and only during the call it is passed to.
---@class orbit.Event
---@field id string
---@field type string `purchase`, `signup`, `refund`, `birthday`, … or any type the shop sends.
---@field customer string The customer's id.
---@field at string ISO 8601 instant (UTC).
---@field total orbit.Cents|nil For purchases and refunds.
---@field currency string|nil ISO 4217 code, e.g. `"EUR"`.
---@field order string|nil The order id.
---@field items orbit.LineItem[]|nil
---@field [string] any Further fields the shop sent.

---@class orbit.LineItem
---@field sku string
---@field category string|nil
---@field qty integer
---@field price orbit.Cents Unit price.

---Limits on one measure of a customer; both count (`at_least = 61` is 61 or more).
---@class orbit.Bounds
---@field at_least? integer
---@field at_most? integer

---@class orbit.WindowedBounds: orbit.Bounds
---@field days? integer Only the last N days (default: the whole history).

---@class orbit.Conditions
---@field orders? orbit.WindowedBounds Orders: `orders = { at_least = 2 }`.
---@field spent? orbit.WindowedBounds Money spent: `spent = { at_least = eur(500), days = 365 }`.
---@field days_since_last_order? orbit.Bounds Whole days since the last order; never met without orders.
---@field points? orbit.Bounds The points balance.
---@field tagged? string|string[] Tags the customer must have: `tagged = "winback"`.

---@class orbit.HandlerOptions: orbit.Conditions
---@field days? integer For `on "inactive"`: days without an order.

---@class orbit.SegmentSpec: orbit.Conditions
---@field description? string What the segment means, for people.
---@field when? fun(c: orbit.Customer): boolean Who is in it, beyond the declared conditions.

---@class orbit.PointsPer
---@field per integer A point per whole amount of the event's total, in cents: `eur(1)`.
---@field tier_multiplier? boolean Times the tier's multiplier (default true).

---@class orbit.EarnSpec
---@field on string The event type that earns, e.g. `"purchase"`.
---@field points integer|orbit.PointsPer|fun(e: orbit.Event, c: orbit.Customer): number Points per event (rounded down).
---@field expires? orbit.Window When the points expire after they were earned.
---@field when? fun(e: orbit.Event, c: orbit.Customer): boolean Earn only when this holds.

---@class orbit.TierSpec: orbit.Conditions
---@field name string
---@field min_points? integer Points earned (lifetime) the tier needs.
---@field multiplier? number Points multiplier (default 1).
---@field when? fun(c: orbit.Customer): boolean A further condition.

---@class orbit.AwardOptions
---@field expires orbit.Window

---Defines a segment: `segment "vip" { spent = { at_least = eur(500), days = 365 } }`.
---@param name string
---@return fun(spec: orbit.SegmentSpec)
function segment(name) end

---Defines an earning rule: `earn "points-per-euro" { on = "purchase", points = function(e, c) … end }`.
---@param name string
---@return fun(spec: orbit.EarnSpec)
function earn(name) end

---Defines the tiers, lowest first; a customer holds the highest whose conditions are met.
---@param list orbit.TierSpec[]
function tiers(list) end

---A handler for an event type: `on "purchase" (function(e, c) … end)`, only for customers who meet conditions:
---`on "purchase" { orders = { at_most = 1 } } (function(e, c) … end)`, or for inactivity:
---`on "inactive" { days = 90 } (function(c) … end)`.
---@param event_type string
---@return fun(handler: fun(e: orbit.Event, c: orbit.Customer)|orbit.HandlerOptions): fun(handler: fun(e: orbit.Event, c: orbit.Customer)|fun(c: orbit.Customer))?
function on(event_type) end

---Proposes points for the customer (in a handler): `award(250, { expires = { days = 90 } })`.
---@param points integer Above 0.
---@param options? orbit.AwardOptions
function award(points, options) end

---Proposes taking points (in a handler); skipped when the balance is too low: `deduct(500)`.
---@param points integer Above 0.
function deduct(points) end

---Proposes a tag (in a handler): `tag("winback")`.
---@param name string
function tag(name) end

---Proposes removing a tag (in a handler): `untag("winback")`.
---@param name string
function untag(name) end

---Proposes setting an attribute (in a handler); `nil` removes it: `set("favourite_category", "shoes")`.
---@param key string
---@param value any A value JSON can hold.
function set(key, value) end

---Proposes a message through the outbox, sent only with consent: `send("email", "win-back", { discount_percent = 15 })`.
---@param channel "email"|"push"|"sms"|"whatsapp"
---@param template string
---@param data? table<string, any>
function send(channel, template, data) end

---Proposes an event for the same customer, handled at once: `emit("vip-welcome", { source = "segment" })`.
---@param event_type string
---@param data? table<string, any>
function emit(event_type, data) end

---Euros to cents: `eur(49.99)` is `4999`.
---@param amount number
---@return orbit.Cents
function eur(amount) end

-- Checkout: offers, coupons, referrals, paying with points (docs/checkout.md).

---@class orbit.CartLine
---@field sku string
---@field category string|nil
---@field qty integer
---@field price orbit.Cents Unit price.
---@field total orbit.Cents price × qty.

---@class orbit.LineFilter
---@field category? string|string[] Lines of this category (or any of these).
---@field sku? string|string[] Lines with this SKU (or any of these).

---@class orbit.Cart
---@field currency string ISO 4217 code.
---@field subtotal orbit.Cents Sum of the line totals.
---@field item_count integer Units in the cart.
---@field lines orbit.CartLine[]
local Cart = {}

---Total of the lines matching `filter` (all lines without one): `cart:subtotal{ category = "shoes" }`.
---@param filter? orbit.LineFilter
---@return orbit.Cents
function Cart:subtotal(filter) end

---Units of the lines matching `filter`: `cart:count{ category = "socks" }`.
---@param filter? orbit.LineFilter
---@return integer
function Cart:count(filter) end

---Whether a line matches `filter`: `cart:has{ sku = "GIFT-BOX" }`.
---@param filter? orbit.LineFilter
---@return boolean
function Cart:has(filter) end

---@class orbit.Discount A discount made by `percent_off`, `amount_off`, `buy_x_get_y`, `free_item`, `points_multiplier` or `best_of`.

---@class orbit.DiscountOptions: orbit.LineFilter
---@field min_subtotal? orbit.Cents The matched lines must reach this total.

---@class orbit.OfferWindow
---@field from string Local time, `"2026-11-27 00:00"`.
---@field to string Local time, the minute included, `"2026-11-30 23:59"`.
---@field zone string IANA zone, `"Europe/Berlin"`.

---@class orbit.OfferSpec
---@field title? string
---@field window? orbit.OfferWindow
---@field segment? string Only for members of this segment.
---@field tier? string Only for this tier or higher.
---@field first_order? boolean Only for a customer's first order.
---@field min_orders? integer Only after this many orders.
---@field eligible? fun(c: orbit.Customer, cart: orbit.Cart): boolean, string? Return false and a reason to refuse.
---@field discount orbit.Discount|orbit.Discount[]|fun(cart: orbit.Cart, c: orbit.Customer): orbit.Discount|orbit.Discount[]|nil
---@field priority? integer Higher first (default 0).
---@field exclusive? boolean Applies alone when it saves more than the stackable offers together.
---@field group? string Only the best offer of a group applies.
---@field per_customer? integer Uses per customer.
---@field total_uses? integer Uses in total.
---@field per_day? integer Uses per day (in the window's zone).
---@field per_week? integer Uses per ISO week.
---@field per_month? integer Uses per month.
---@field budget? orbit.Cents Discount this offer may give in total.
---@field currency? string Default `"EUR"`.
---@field coupon? boolean Needs a coupon for this offer.
---@field restore_on_refund? boolean Refunds give back uses and budget (default true).

---@class orbit.CouponSpec
---@field offer string The offer the coupon unlocks (it has `coupon = true`).
---@field uses? integer Orders that may use it (default 1).
---@field per_customer? integer Orders per customer.
---@field expires? string Local time, with `zone`.
---@field zone? string IANA zone of `expires`.

---@class orbit.ReferralSpec
---@field referee { discount: orbit.Discount|orbit.Discount[], first_order_only?: boolean }
---@field referrer { points: integer, after_days?: integer, expires?: orbit.Window }

---@class orbit.PointsPaymentSpec
---@field points integer These many points …
---@field worth orbit.Cents … are worth this much.
---@field max_percent? integer Share of the total points may pay (default 100).
---@field min_points? integer Fewest points to pay with (default 0).

---@class orbit.IssueCouponSpec
---@field offer string An offer with `coupon = true`.
---@field valid_days? integer Days it stays valid.
---@field uses? integer Orders that may use it (default 1).

---Defines an offer: `offer "black-week" { window = …, discount = percent_off(20, { category = "shoes" }) }`.
---@param name string
---@return fun(spec: orbit.OfferSpec)
function offer(name) end

---Declares a coupon code: `coupon "WELCOME5" { offer = "welcome", uses = 1000, per_customer = 1 }`.
---@param code string Letters, digits, `-` and `_`.
---@return fun(spec: orbit.CouponSpec)
function coupon(code) end

---The referral programme: `referral { referee = { discount = percent_off(10) }, referrer = { points = 500 } }`.
---@param spec orbit.ReferralSpec
function referral(spec) end

---Lets customers pay with points: `pay_with_points { points = 100, worth = eur(1), max_percent = 50 }`.
---@param spec orbit.PointsPaymentSpec
function pay_with_points(spec) end

---A percentage off the matching lines' total, rounded down: `percent_off(20, { category = "shoes" })`.
---@param percent number Above 0, at most 100.
---@param options? orbit.DiscountOptions
---@return orbit.Discount
function percent_off(percent, options) end

---An amount off the matching lines (never more than they cost): `amount_off(eur(10), { min_subtotal = eur(100) })`.
---@param amount orbit.Cents
---@param options? orbit.DiscountOptions
---@return orbit.Discount
function amount_off(amount, options) end

---Of every buy + get matching units, the `get` cheapest are `percent` off (default 100):
---`buy_x_get_y { buy = 2, get = 1, category = "socks" }`.
---@param spec { buy: integer, get: integer, percent?: number, category?: string|string[], sku?: string|string[] }
---@return orbit.Discount
function buy_x_get_y(spec) end

---Matching units free, the cheapest first: `free_item { sku = "TOTE", qty = 1 }`.
---@param spec { sku?: string|string[], category?: string|string[], qty?: integer }
---@return orbit.Discount
function free_item(spec) end

---Points on the matching share of the order times `factor`: `points_multiplier(2, { category = "outdoor" })`.
---@param factor number Above 1.
---@param options? orbit.LineFilter
---@return orbit.Discount
function points_multiplier(factor, options) end

---The one discount that saves most: `best_of { amount_off(eur(5), { min_subtotal = eur(50) }), amount_off(eur(15), { min_subtotal = eur(100) }) }`.
---@param discounts orbit.Discount[]
---@return orbit.Discount
function best_of(discounts) end

---Proposes a personal coupon (in a handler) and returns its code:
---`send("email", "win-back", { code = issue_coupon { offer = "win-back", valid_days = 14 } })`.
---@param spec orbit.IssueCouponSpec
---@return string code
function issue_coupon(spec) end
