"""The emails of accounts: confirm an address, someone signed up with yours, reset a password.
Each renders templates/email/<name>.txt and .html; the caller queues it in the outbox."""

from __future__ import annotations

from dailypapers.mail.rendering import Email, render_email


def confirm_address(to: str, *, username: str, confirm_url: str, site_name: str) -> Email:
    return render_email(
        to,
        f"Confirm your email address for {site_name}",
        "confirm_address",
        username=username,
        confirm_url=confirm_url,
        site_name=site_name,
    )


def sign_up_attempt(to: str, *, username: str, base_url: str, site_name: str) -> Email:
    """To the owner of an address someone tried to sign up with: the page said nothing."""
    return render_email(
        to,
        f"Someone tried to sign up at {site_name} with your address",
        "sign_up_attempt",
        username=username,
        base_url=base_url,
        site_name=site_name,
    )


def reset_password(to: str, *, username: str, reset_url: str, site_name: str) -> Email:
    return render_email(
        to,
        f"Reset your {site_name} password",
        "reset_password",
        username=username,
        reset_url=reset_url,
        site_name=site_name,
    )
