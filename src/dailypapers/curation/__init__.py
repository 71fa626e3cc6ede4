"""Curation: what curators and admins do to the list, members and comments, and its log."""
