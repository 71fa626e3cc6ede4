"""Following: a member's authors, arXiv categories, topics and others' public collections."""
