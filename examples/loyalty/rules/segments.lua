-- Segments declared as conditions on the customer: every condition listed must hold. Orbit checks these itself,
-- without running Lua, and `.explain` shows each one with the customer's value. (`when = function(c) ... end` is
-- there for anything they cannot say.)
segment "vip" {
  description = "Spent 500 EUR or more in the last year",
  spent = { at_least = eur(500), days = 365 },
}

segment "at-risk" {
  description = "Ordered at least twice, but not in the last 60 days",
  orders = { at_least = 2 },
  days_since_last_order = { at_least = 61 },
}

segment "one-timer" {
  description = "Exactly one order, more than 30 days ago",
  orders = { at_least = 1, at_most = 1 },
  days_since_last_order = { at_least = 31 },
}
