-- The loyalty example's segments as `when` functions, as the example wrote them before segments could declare
-- their conditions. `scripts/bench replay` swaps this file into a copy of examples/loyalty/rules to measure what Lua
-- conditions cost; the tiers and segments it finds are the same.
segment "vip" {
  description = "Spent 500 EUR or more in the last year",
  when = function(c) return c:spent{ days = 365 } >= eur(500) end,
}

segment "at-risk" {
  description = "Ordered at least twice, but not in the last 60 days",
  when = function(c) return c.order_count >= 2 and (c.days_since_last_order or 0) > 60 end,
}

segment "one-timer" {
  description = "Exactly one order, more than 30 days ago",
  when = function(c) return c.order_count == 1 and (c.days_since_last_order or 0) > 30 end,
}
