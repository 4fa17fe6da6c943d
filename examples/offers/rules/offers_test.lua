-- Tests for the offers at Laufwerk's checkout: `orbit test examples/offers/rules`.
-- Every test starts with an empty shop and the clock at 2026-01-01T00:00:00Z; amounts are cents (eur(…)).

local shoes = { { sku = "RUN-42", category = "shoes", price = eur(129.99) } }
local scarf = { { sku = "SCARF", category = "accessories", price = eur(29.90) } }

test "Black Week starts at midnight Berlin time" (function()
  at "2026-11-26T23:59:59+01:00"
  expect.quote{ customer = "anna", lines = shoes, not_applied = { ["black-week"] = "outside_window" },
                applied = { ["spend-and-save"] = eur(10) } }
  at "2026-11-27T00:00:00+01:00"
  expect.quote{ customer = "anna", lines = shoes, applied = { ["black-week"] = eur(25.99) },
                not_applied = { ["spend-and-save"] = "beaten_in_group" }, total = eur(104) }
end)

test "Black Week ends after 30 November 23:59 Berlin time" (function()
  at "2026-11-30T23:59:59+01:00"
  expect.quote{ customer = "anna", lines = shoes, applied = { "black-week" } }
  at "2026-12-01T00:00:00+01:00"
  expect.quote{ customer = "anna", lines = shoes, applied = { "spend-and-save" },
                not_applied = { ["black-week"] = "outside_window" } }
end)

test "the seasonal group keeps the better offer; the multi-buy stacks on top" (function()
  at "2026-11-28T15:00:00+01:00"
  local socks = { sku = "SOCK-W", category = "socks", qty = 3, price = eur(9.99) }
  expect.quote{ customer = "anna", lines = { shoes[1], socks },
                applied = { ["black-week"] = eur(25.99), ["socks-3-for-2"] = eur(9.99) },
                not_applied = { ["spend-and-save"] = "beaten_in_group" }, discount = eur(35.98) }
  -- Cheap shoes in a big basket: 10 EUR off the basket beat 20 % of 45 EUR.
  expect.quote{ customer = "anna",
                lines = { { sku = "TRAIL-39", category = "shoes", price = eur(45) },
                          { sku = "JACKET", category = "clothing", price = eur(60) } },
                applied = { ["spend-and-save"] = eur(10) }, not_applied = { ["black-week"] = "beaten_in_group" } }
end)

test "Black Week once per customer" (function()
  at "2026-11-27T10:00:00+01:00"
  order{ id = "anna-1", customer = "anna", lines = shoes }
  expect.quote{ customer = "anna", lines = shoes, not_applied = { ["black-week"] = "cap_reached" } }
  expect.quote{ customer = "ben", lines = shoes, applied = { "black-week" } }
end)

test "a full refund gives the Black Week use back; a partial one does not" (function()
  at "2026-11-27T10:00:00+01:00"
  local pair = { { sku = "RUN-42", category = "shoes", qty = 2, price = eur(129.99) } }
  order{ id = "anna-1", customer = "anna", lines = pair }
  refund{ order = "anna-1", lines = { { line = 1, qty = 1 } } }
  expect.quote{ customer = "anna", lines = shoes, not_applied = { ["black-week"] = "cap_reached" } }
  refund{ order = "anna-1" }
  expect.quote{ customer = "anna", lines = shoes, applied = { "black-week" } }
  refund{ order = "anna-1" }
  expect.rejected("fully refunded")
end)

test "a friend's code: 10 % off the first order, 500 points for the friend 14 days later" (function()
  at "2026-10-05T10:00:00+02:00"
  given.customer{ id = "anna", referral_code = "ANNA10" }
  local boots = { { sku = "BOOT-44", category = "shoes", price = eur(89) } }
  expect.quote{ customer = "ben", referral_code = "ANNA10", lines = boots,
                applied = { referral = eur(8.90), ["spend-and-save"] = eur(4) }, total = eur(76.10) }
  expect.quote{ customer = "anna", referral_code = "ANNA10", lines = boots,
                not_applied = { referral = "not_eligible" } }
  order{ id = "ben-1", customer = "ben", referral_code = "ANNA10", lines = boots }
  expect.quote{ customer = "ben", referral_code = "ANNA10", lines = boots,
                not_applied = { referral = "not_eligible" } }
  expect.points("anna", 0)
  at "2026-10-20T10:00:00+02:00"
  expect.points("anna", 500)
end)

test "75 days without an order: a personal win-back coupon, used once" (function()
  at "2026-09-01T10:00:00+02:00"
  given.customer{ id = "cleo", consent = { email = true } }
  order{ id = "cleo-1", customer = "cleo", lines = scarf }
  at "2026-11-16T10:00:00+01:00"
  expect.message("cleo", "win-back")
  expect.quote{ customer = "cleo", lines = scarf, not_applied = { ["win-back"] = "coupon_required" } }
  expect.quote{ customer = "cleo", lines = scarf, coupons = { issued_coupon("win-back") },
                applied = { ["win-back"] = eur(4.48) } }
  order{ id = "cleo-2", customer = "cleo", lines = scarf, coupons = { issued_coupon("win-back") } }
  expect.quote{ customer = "cleo", lines = scarf, coupons = { issued_coupon("win-back") },
                not_applied = { ["win-back"] = "coupon_used" } }
  order{ id = "cleo-3", customer = "cleo", lines = scarf, coupons = { issued_coupon("win-back") } }
  expect.rejected("used up")
end)

test "100 points pay 1 EUR, for at most half of the order" (function()
  at "2026-10-05T10:00:00+02:00"
  given.customer{ id = "anna", points = 5000 }
  expect.quote{ customer = "anna", lines = scarf, points = 1000,
                points_to_redeem = 1000, total_due = eur(19.90), points_to_earn = 19 }
  expect.quote{ customer = "anna", lines = scarf, points = 5000, points_to_redeem = 1495, total_due = eur(14.95) }
  expect.quote{ customer = "anna", lines = scarf, points = 99, points_to_redeem = 0, total_due = eur(29.90) }
  order{ id = "anna-1", customer = "anna", lines = scarf, points = 1000 }
  expect.points("anna", 5000 - 1000 + 19)
end)
