-- One point per full euro spent, times the tier's multiplier. Points expire a year after they were earned.
earn "points-per-euro" {
  on = "purchase",
  points = { per = eur(1) },
  expires = { days = 365 },
}
