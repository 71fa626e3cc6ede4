"""Members of the community and their votes (accounts and voting arrive with the community work)."""
