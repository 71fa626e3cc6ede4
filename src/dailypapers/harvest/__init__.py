"""The arXiv harvest: new and updated papers of the configured categories, every announcement."""
