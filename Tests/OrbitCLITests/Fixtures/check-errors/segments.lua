-- Mistakes orbit check finds before launch (Tests/OrbitCLITests/Fixtures/check-errors.expected).
segment "vip" {
  description = "Spent 500 EUR or more in the last year",
  when = function(c) return c:spnt{ days = 365 } >= eur(500) end,
}

on "purchse" (function(e, c)
  if c.order_cont == 1 then awrad(100) end
end)
