-- A welcome bonus on sign-up, and a first-order bonus, its condition in Lua (the example declares it:
-- on "purchase" { orders = { at_most = 1 } }).
on "signup" (function(e, c)
  award(200, { expires = { days = 365 } })
  if c.consent.email then
    send("email", "welcome", { points = 200 })
  end
end)

on "purchase" (function(e, c)
  if c.order_count == 1 then
    award(100, { expires = { days = 365 } })
    tag("first-order")
  end
end)
