-- Win-back, the welcome-back condition in Lua (the example declares it: on "purchase" { tagged = "winback" }).
on "inactive" { days = 90 } (function(c)
  tag("winback")
  if c.consent.email then
    send("email", "win-back", { discount_percent = 15, points = c.points })
  end
end)

-- Welcome back: the first order after a win-back earns a bonus and clears the tag.
on "purchase" (function(e, c)
  if c:has_tag("winback") then
    untag("winback")
    award(150, { expires = { days = 365 } })
  end
end)
