-- A welcome bonus on sign-up, and a first-order bonus (shop exports rarely carry sign-ups, so the first purchase
-- counts as the welcome too).
on "signup" (function(e, c)
  award(200, { expires = { days = 365 } })
  if c.consent.email then
    send("email", "welcome", { points = 200 })
  end
end)

on "purchase" { orders = { at_most = 1 } } (function(e, c)
  award(100, { expires = { days = 365 } })
  tag("first-order")
end)
