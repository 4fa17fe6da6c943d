offer "black-week" {
  window = { from = "2026-11-27 00:00", to = "2026-11-30 23:59", zone = "Europe/Berlin" },
  discount = percent_off(20, { category = "shoes" }),
  per_customer = 1,
}

offer "welcome" { coupon = true, discount = amount_off(eur(5)) }
coupon "WELCOME5" { offer = "welcome", uses = 1 }
