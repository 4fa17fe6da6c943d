-- One point per full euro paid; points expire after a year. 100 points pay 1 EUR, for up to half an order.
earn "points-per-euro" {
  on = "purchase",
  points = function(e, c) return e.total // 100 end,
  expires = { days = 365 },
}

pay_with_points { points = 100, worth = eur(1), max_percent = 50, min_points = 100 }

tiers {
  { name = "silver" },
  { name = "gold", min_points = 300 },
}
