tiers {
  { name = "silver" },
  { name = "gold", min_points = 1000 },
  { name = "platinum", min_points = 1000 },
}
