-- The loyalty programme of a small EUR shoe and outdoor shop.

-- 500 welcome points at signup, one point per euro paid; points are valid for a year.
earn "welcome-bonus" { on = "signup", points = 500, expires = { days = 365 } }
earn "points-per-euro" { on = "purchase", points = function(e) return e.total // 100 end, expires = { days = 365 } }

-- 100 points pay 1 EUR, for at most 20 % of an order, from 200 points on.
pay_with_points { points = 100, worth = eur(1), max_percent = 20, min_points = 200 }

-- Customers who spent 1000 EUR or more in the last year.
segment "vip" {
  description = "Spent 1000 EUR or more in the last 365 days",
  when = function(c) return c:spent{ days = 365 } >= eur(1000) end,
}
