-- The shop sends a "birthday" event on the day; the bonus is theirs for three months.
on "birthday" (function(e, c)
  award(250, { expires = { days = 90 } })
  if c.consent.email then
    send("email", "birthday", { points = 250, tier = c.tier.name })
  end
end)
