"""Learning-rate schedules (group `scheduler`), as multipliers of the optimizer's base lr."""
