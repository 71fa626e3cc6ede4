"""Curation: how papers get on the daily lists (members' submissions, curators' featuring and
the harvest's proposals), their links, moderation of papers, comments and members, and the
curation log that records it all."""
