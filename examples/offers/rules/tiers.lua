-- Gold members save 5 % on everything, on top of other offers.
offer "gold-5" {
  title = "Gold members: 5 % off",
  tier = "gold",
  discount = percent_off(5),
}
