"""Search: keyword (full-text) and dense (embedding) retrieval, fused."""
