-- Offer mistakes orbit check finds (Tests/OrbitCLITests/Fixtures/check-offers.expected, checked --at 2026-12-05).
offer "summer-sale" {
  window = { from = "2026-07-01 00:00", to = "2026-07-31 23:59", zone = "Europe/Berlin" },
  discount = percent_off(10),
}

offer "welcome" {
  coupon = true,
  discount = amount_off(eur(5)),
}

offer "loyal-again" {
  first_order = true,
  min_orders = 2,
  discount = percent_off(5),
}

offer "big-spender" {
  discount = amount_off(eur(50), { min_subtotal = eur(200) }),
  budget = eur(30),
}

offer "shoes" {
  eligible = function(c, cart) return cart:has{ category = "shoes" } and c.order_cont > 0 end,
  discount = function(cart, c) return percent_off(cart.subtotl > eur(100) and 15 or 10) end,
}
