-- Friends save 10 % on their first order; the friend who referred them gets 500 points once the order is 14 days
-- old and not returned.
referral {
  referee = { discount = percent_off(10), first_order_only = true },
  referrer = { points = 500, after_days = 14 },
}
