-- Tiers, lowest first. A customer holds the highest tier whose conditions they meet.
-- Gold counts points earned over the customer's life, so redeeming points never demotes anyone.
tiers {
  { name = "silver" },
  { name = "gold", min_points = 1000, multiplier = 1.25 },
  { name = "platinum", spent = { at_least = eur(2000), days = 365 }, multiplier = 1.5 },
}
