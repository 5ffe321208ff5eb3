"""Live use of a model: frames -> probabilities -> smoothed actions (key presses, game moves)."""
