"""One address, one mailbox: the one check of every email address the site takes.

Sign-up, subscriptions, `dailypapers users create-admin` and log-in by address all read an
address through `mailbox()`: exactly one addr-spec (checked by `email-validator`, the library
behind pydantic's `EmailStr`), so that `victim@x.org,attacker`, `a;b@x.org`, a display name
with angle brackets, a quoted local part or an RFC 2047 encoded word
(`=?utf-8?q?…?=victim@x.org`) are refused rather than read as several recipients.

The address is given back in one canonical form, the key of every lookup and of the limit of
one confirmation an hour: lower case, the domain in its ASCII (IDNA) spelling
(`ada@Bücher.DE` → `ada@xn--bcher-kva.de`). Local parts outside ASCII (`jürgen@x.org`) need
SMTPUTF8 from every server on the way, which most do not offer: they are refused here, before
anything is stored, with a sentence saying so.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

MAX_LENGTH = 320  # the column's size, and more than RFC 5321 allows (254)
EXAMPLE = "ada@example.org"


class BadAddress(ValueError):
    """Not one mailbox; the message says why and is safe to show next to the form."""


def mailbox(text: str) -> str:
    """The canonical form of one email address, or BadAddress saying what is wrong."""
    address = text.strip()
    if not address:
        raise BadAddress(f"Enter an email address such as {EXAMPLE}.")
    if len(address) > MAX_LENGTH:
        raise BadAddress(f"Enter an email address such as {EXAMPLE} (this one is too long).")
    if "=?" in address:  # an RFC 2047 encoded word: mail programs would decode it to others
        raise BadAddress(
            f"Enter an email address such as {EXAMPLE}: encoded words (=?…?=) are not accepted."
        )
    if not address.split("@", 1)[0].isascii():
        raise BadAddress(
            f"Enter an email address such as {EXAMPLE}: this site cannot send mail to an "
            "address with letters outside ASCII before the @."
        )
    try:
        valid = validate_email(
            address,
            check_deliverability=False,  # no DNS look-ups inside a request
            allow_smtputf8=False,
            allow_quoted_local=False,
            allow_display_name=False,
            allow_domain_literal=False,
        )
    except EmailNotValidError as error:
        reason = str(error).rstrip(".")
        raise BadAddress(
            f"Enter an email address such as {EXAMPLE}: {reason[:1].lower()}{reason[1:]}."
        ) from None
    return f"{valid.local_part.lower()}@{valid.ascii_domain.lower()}"


def same_mailbox(text: str) -> str | None:
    """The canonical form, or None for text that is not one address (a log-in by user name)."""
    try:
        return mailbox(text)
    except BadAddress:
        return None
