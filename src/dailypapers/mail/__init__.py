"""Email: one sender for account mail and digests (SMTP, or the console in development)."""
