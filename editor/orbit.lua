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

---An event as rules see it: its own fields and every field of its data.
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

---@class orbit.SegmentSpec
---@field description? string What the segment means, for people.
---@field when fun(c: orbit.Customer): boolean Who is in it.

---@class orbit.EarnSpec
---@field on string The event type that earns, e.g. `"purchase"`.
---@field points integer|fun(e: orbit.Event, c: orbit.Customer): number Points per event (rounded down).
---@field expires? orbit.Window When the points expire after they were earned.
---@field when? fun(e: orbit.Event, c: orbit.Customer): boolean Earn only when this holds.

---@class orbit.TierSpec
---@field name string
---@field min_points? integer Points earned (lifetime) the tier needs.
---@field multiplier? number Points multiplier (default 1).
---@field when? fun(c: orbit.Customer): boolean A further condition.

---@class orbit.AwardOptions
---@field expires orbit.Window

---Defines a segment: `segment "vip" { when = function(c) return c:spent{ days = 365 } >= eur(500) end }`.
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

---A handler for an event type: `on "purchase" (function(e, c) … end)`, or for inactivity:
---`on "inactive" { days = 90 } (function(c) … end)`.
---@param event_type string
---@return fun(handler: fun(e: orbit.Event, c: orbit.Customer)|{ days: integer }): fun(handler: fun(c: orbit.Customer))?
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
