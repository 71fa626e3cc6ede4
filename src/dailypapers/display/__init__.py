"""How papers are written out, shared by the web pages and the email digests: LaTeX in titles
and abstracts as Unicode, the query's words marked, short author lists and dates."""
