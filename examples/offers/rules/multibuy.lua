-- Socks: buy two, get the cheapest third free. Spend 100 EUR, save 10 EUR (50 EUR: 4 EUR).
offer "socks-3-for-2" {
  title = "Socks: 3 for 2",
  discount = buy_x_get_y { buy = 2, get = 1, category = "socks" },
}

offer "spend-and-save" {
  title = "Spend 50 EUR save 4, spend 100 EUR save 10",
  discount = best_of {
    amount_off(eur(4), { min_subtotal = eur(50) }),
    amount_off(eur(10), { min_subtotal = eur(100) }),
  },
  group = "seasonal",
}
