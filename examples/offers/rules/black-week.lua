-- Black Week in Berlin: 20 % off shoes, once per customer, until 5,000 EUR of discount are given.
offer "black-week" {
  title = "Black Week: 20 % off shoes",
  window = { from = "2026-11-27 00:00", to = "2026-11-30 23:59", zone = "Europe/Berlin" },
  discount = percent_off(20, { category = "shoes" }),
  per_customer = 1,
  budget = eur(5000),
  group = "seasonal",
  priority = 10,
}
