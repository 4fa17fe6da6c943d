-- The loyalty example's tiers with platinum's condition as a `when` function (see segments.lua beside it).
-- Tiers, lowest first. A customer holds the highest tier whose conditions they meet.
-- Gold counts points earned over the customer's life, so redeeming points never demotes anyone.
tiers {
  { name = "silver" },
  { name = "gold", min_points = 1000, multiplier = 1.25 },
  { name = "platinum", when = function(c) return c:spent{ days = 365 } >= eur(2000) end, multiplier = 1.5 },
}
