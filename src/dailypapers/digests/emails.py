"""The emails of subscribing: confirm the digest (double opt-in), and "you already get it"
(to the owner only: the page says the same either way). Each renders templates/email/<name>.txt
and .html; the caller queues it in the outbox."""

from __future__ import annotations

from dailypapers.mail.rendering import Email, render_email


def confirm_subscription(to: str, *, frequency: str, confirm_url: str, site_name: str) -> Email:
    return render_email(
        to,
        f"Confirm your {site_name} digest",
        "confirm_subscription",
        frequency=frequency,
        confirm_url=confirm_url,
        site_name=site_name,
    )


def already_subscribed(to: str, *, frequency: str, manage_url: str, site_name: str) -> Email:
    return render_email(
        to,
        f"You already get the {site_name} digest",
        "already_subscribed",
        frequency=frequency,
        manage_url=manage_url,
        site_name=site_name,
    )
