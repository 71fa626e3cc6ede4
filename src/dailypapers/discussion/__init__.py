"""Discussion: comments on papers, in Markdown, threaded one level."""
