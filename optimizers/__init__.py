"""Update rules, learning-rate schedules and the jitted trajectory engine."""
