-- The reference checkout workload (bench/quote_workload.lua) as 50 Orbit offers, declared.
-- Offer k: category c(k % 5); window open unless k % 7 == 0; customer tier at least t(k % 3);
-- even k: (5 + k % 20) % off the category's lines; odd k: k × 10 cents off when the category reaches 20 €;
-- k % 10 == 0: exclusive (the best exclusive competes with the sum of the others).
tiers {
  { name = "t0" },
  { name = "t1", min_points = 1 },
  { name = "t2", min_points = 2 },
}

earn "tier-points" { on = "tier", points = function(e) return e.points end }

for k = 1, 50 do
  local category = { category = "c" .. (k % 5) }
  local discount
  if k % 2 == 0 then
    discount = percent_off(5 + k % 20, category)
  else
    discount = amount_off(k * 10, { category = category.category, min_subtotal = 2000 })
  end
  offer("offer-" .. k) {
    window = k % 7 == 0
      and { from = "2020-01-01 00:00", to = "2020-01-02 00:00", zone = "Europe/Berlin" }
      or { from = "2026-01-01 00:00", to = "2026-12-31 23:59", zone = "Europe/Berlin" },
    tier = "t" .. (k % 3),
    discount = discount,
    exclusive = k % 10 == 0,
  }
end
