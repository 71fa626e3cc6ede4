"""A member's library: collections (reading lists) of papers, their pages, feeds and API, and
export to and import from reference managers (BibTeX, RIS, CSL-JSON)."""
