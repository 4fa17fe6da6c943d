earn "points-per-euro" {
  on = "purchase",
  points = function(e, c) return e.total // 100 end,
}

segment "vip" {
  when = function(c) return c:spent{ days = 365 } >= eur(500) end,
}
