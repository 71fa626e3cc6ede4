"""Talking to arXiv politely: the API (Atom) for single papers; OAI-PMH for harvesting."""
