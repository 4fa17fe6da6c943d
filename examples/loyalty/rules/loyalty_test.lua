-- Tests for the loyalty programme: `orbit test examples/loyalty/rules`.
-- Every test starts with an empty shop and the clock at 2026-01-01T00:00:00Z.

test "a sign-up earns the welcome bonus and, with consent, the welcome email" (function()
  at "2026-01-05T09:00:00+01:00"
  event{ type = "signup", customer = "anna", consent = { email = true } }
  expect.effect{ kind = "award", detail = "200 points" }
  expect.points("anna", 200)
  expect.message("anna", "welcome")
  expect.tier("anna", "silver")
end)

test "the first order earns a point per euro, the first-order bonus and a tag" (function()
  at "2026-01-10T18:30:00+01:00"
  event{ type = "purchase", customer = "anna", total = eur(129.99), order = "A-1001" }
  expect.effect{ rule = "points-per-euro", detail = "129 points" }
  expect.effect{ kind = "award", detail = "100 points" }
  expect.points("anna", 229)
  expect.tag("anna", "first-order")
end)

test "500 EUR within a year makes a VIP" (function()
  at "2026-02-14T10:00:00+01:00"
  event{ type = "purchase", customer = "anna", total = eur(450) }
  expect.not_segment("anna", "vip")
  at "2026-03-01T10:00:00+01:00"
  event{ type = "purchase", customer = "anna", total = eur(60) }
  expect.segment("anna", "vip")
  -- A year after the first order, only 60 EUR are left in the window.
  at "2027-02-20T10:00:00+01:00"
  expect.not_segment("anna", "vip")
end)

test "gold at 1000 points earned; gold earns 1.25 points per euro" (function()
  given.customer{ id = "ben", points = 950 }
  event{ type = "purchase", customer = "ben", total = eur(100) }
  expect.tier("ben", "gold")
  event{ type = "purchase", customer = "ben", total = eur(100) }
  expect.effect{ rule = "points-per-euro", detail = "125 points" }
  expect.points("ben", 950 + 100 + 100 + 125) -- the first order also earns the first-order bonus
end)

test "platinum for 2000 EUR spent in a year" (function()
  event{ type = "purchase", customer = "carla", total = eur(2000) }
  expect.tier("carla", "platinum")
end)

test "90 days without an order: tag and win-back email; the next order clears the tag" (function()
  given.customer{ id = "dora", consent = { email = true } }
  at "2026-01-10T12:00:00Z"
  event{ type = "purchase", customer = "dora", total = eur(40) }
  at "2026-04-11T12:00:00Z"
  expect.tag("dora", "winback")
  expect.message("dora", "win-back")
  event{ type = "purchase", customer = "dora", total = eur(25) }
  expect.no_tag("dora", "winback")
  expect.effect{ kind = "award", detail = "150 points" }
end)

test "a birthday without email consent awards points and sends nothing" (function()
  given.customer{ id = "emil", consent = { email = false } }
  event{ type = "birthday", customer = "emil" }
  expect.points("emil", 250)
  expect.no_effect{ kind = "send" }
end)

test "a purchase without a total is rejected" (function()
  event{ type = "purchase", customer = "fritz" }
  expect.rejected("total")
end)
