"""For you: each member's own morning list, ranked by a model of their signals, with reasons."""
