-- Offers and coupons. Offers are considered by priority (highest first), then by name.

-- Shoe days, in Berlin time. The window spans the switch to summer time (29 March); Orbit resolves both ends in
-- the zone, so it runs from Friday midnight to Monday 23:59:59 on the shop's wall clock.
offer "shoe-days" {
  title = "Shoe days: 15 % off shoes",
  window = { from = "2026-03-27 00:00", to = "2026-03-30 23:59", zone = "Europe/Berlin" },
  discount = percent_off(15, { category = "shoes" }),
  priority = 10,
  per_customer = 1,
  budget = eur(2000),
}

-- A pair of socks comes free with shoes: the eligibility function gives its own reason when it says no.
offer "socks-with-shoes" {
  title = "Free socks with every pair of shoes",
  eligible = function(c, cart)
    if cart:has{ category = "shoes" } then return true end
    return false, "no shoes in the cart"
  end,
  discount = free_item{ sku = "SOCK-01" },
  per_customer = 1,
}

-- Double points on outdoor gear.
offer "double-points-outdoor" {
  title = "Double points on outdoor gear",
  discount = points_multiplier(2, { category = "outdoor" }),
}

-- VIPs get 25 % off everything, alone: it competes with the sum of the offers above.
offer "vip-25" {
  title = "VIP: 25 % off",
  segment = "vip",
  discount = percent_off(25),
  priority = 20,
  exclusive = true,
}

-- The welcome coupon: 10 EUR off orders from 80 EUR, once per customer, 1000 uses, until the end of the year.
offer "welcome" {
  title = "Welcome: 10 EUR off from 80 EUR",
  coupon = true,
  discount = amount_off(eur(10), { min_subtotal = eur(80) }),
}
coupon "WELCOME10" { offer = "welcome", uses = 1000, per_customer = 1, expires = "2026-12-31 23:59", zone = "Europe/Berlin" }
