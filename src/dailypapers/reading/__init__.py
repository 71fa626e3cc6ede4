"""What a reader opens each morning: the daily list by day, week and month, trending, each
paper's page, and the same data as Hugging Face-shaped JSON."""
