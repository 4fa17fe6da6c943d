-- After 75 days without an order: a personal 15 % coupon, valid 14 days, by email (with consent).
offer "win-back" {
  title = "Welcome back: 15 % off",
  coupon = true,
  discount = percent_off(15),
  per_customer = 1,
}

on "inactive" { days = 75 } (function(c)
  if c.consent.email then
    send("email", "win-back", { code = issue_coupon { offer = "win-back", valid_days = 14 } })
  end
end)
