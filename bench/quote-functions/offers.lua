-- The same 50 offers as bench/quote-offers, with eligibility and discount written as Lua functions: what a rule
-- costs when it is logic rather than declaration.
tiers {
  { name = "t0" },
  { name = "t1", min_points = 1 },
  { name = "t2", min_points = 2 },
}

earn "tier-points" { on = "tier", points = function(e) return e.points end }

local rank = { t0 = 0, t1 = 1, t2 = 2 }

for k = 1, 50 do
  local category = "c" .. (k % 5)
  offer("offer-" .. k) {
    window = k % 7 == 0
      and { from = "2020-01-01 00:00", to = "2020-01-02 00:00", zone = "Europe/Berlin" }
      or { from = "2026-01-01 00:00", to = "2026-12-31 23:59", zone = "Europe/Berlin" },
    eligible = function(c) return (rank[c.tier.name] or -1) >= k % 3 end,
    discount = function(cart)
      if k % 2 == 0 then return percent_off(5 + k % 20, { category = category }) end
      if cart:subtotal{ category = category } >= 2000 then return amount_off(k * 10, { category = category }) end
    end,
    exclusive = k % 10 == 0,
  }
end
