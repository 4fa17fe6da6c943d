-- Win-back: 90 days without an order tags the customer and, with consent, sends an offer.
on "inactive" { days = 90 } (function(c)
  tag("winback")
  if c.consent.email then
    send("email", "win-back", { discount_percent = 15, points = c.points })
  end
end)

-- Welcome back: the first order after a win-back earns a bonus and clears the tag.
on "purchase" { tagged = "winback" } (function(e, c)
  untag("winback")
  award(150, { expires = { days = 365 } })
end)
