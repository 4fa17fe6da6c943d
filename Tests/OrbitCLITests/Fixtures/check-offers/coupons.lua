offer "black-week" {
  window = { from = "2026-11-27 00:00", to = "2026-11-30 23:59", zone = "Europe/Berlin" },
  coupon = true,
  discount = percent_off(20),
}

coupon "BW-EARLY" { offer = "black-week", expires = "2026-11-20 23:59", zone = "Europe/Berlin" }
coupon "AUTUMN" {
  offer = "black-week",
  expires = "2026-10-31",
  zone = "Europe/Berlin",
}
