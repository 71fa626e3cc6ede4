"""Digests: trending papers and followed topics by email, exactly once; and RSS/Atom feeds."""
