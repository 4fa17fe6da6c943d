-- The earning rule as a Lua function: one point per full euro spent, times the tier's multiplier (the example
-- declares it: points = { per = eur(1) }). Points expire a year after they were earned.
earn "points-per-euro" {
  on = "purchase",
  points = function(e, c) return e.total // 100 * c.tier.multiplier end,
  expires = { days = 365 },
}
