test "a point per euro" (function()
  event{ type = "purchase", customer = "anna", total = eur(600) }
  expect.points("anna", 600)
  expect.segment("anna", "vip")
end)

test "a wrong expectation" (function()
  at "2026-11-20T10:00:00+01:00"
  event{ type = "purchase", customer = "ben", total = eur(49.99) }
  expect.points("ben", 50)
  expect.effect{ rule = "points-per-euro", detail = "50 points" }
end)
