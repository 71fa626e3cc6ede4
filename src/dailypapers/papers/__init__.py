"""Papers and the daily list: storage, import, feed queries, pages and the JSON API."""
