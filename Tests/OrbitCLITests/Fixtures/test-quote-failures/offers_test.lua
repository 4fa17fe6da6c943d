-- Failures of expect.quote and order (Tests/OrbitCLITests/Fixtures/test-quote-failures.expected).
local shoes = { { sku = "RUN-42", category = "shoes", price = eur(129.99) } }

test "expected against actual" (function()
  at "2026-11-26T23:30:00+01:00"
  expect.quote{ customer = "anna", lines = shoes, applied = { "black-week" }, discount = eur(26) }
  expect.quote{ customer = "anna", lines = shoes, coupons = { "WELCOME5" },
                applied = { welcome = eur(4) }, not_applied = { ["black-week"] = "cap_reached" } }
end)

test "a refused order fails the test" (function()
  order{ id = "o-1", customer = "anna", lines = shoes, coupons = { "WELCOME5" } }
  order{ id = "o-2", customer = "ben", lines = shoes, coupons = { "WELCOME5" } }
  expect.quote{ customer = "anna", lines = shoes, cuopons = { "WELCOME5" } }
  expect.quote{ customer = "anna", lines = shoes, coupons = { issued_coupon("welcome") } }
end)
