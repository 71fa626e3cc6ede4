"""Signed values in links sent by email: one signer, one salt per purpose.

Confirmation, password reset, unsubscribe, "view in browser" and subscription management links
carry a value signed with the site's secret key (itsdangerous). A tampered, truncated or (where
the purpose has a maximum age) expired link is refused with a sentence the page can show.
"""

from __future__ import annotations

from typing import Any

from itsdangerous import (
    BadSignature,
    SignatureExpired,
    URLSafeSerializer,
    URLSafeTimedSerializer,
)


class BadLink(ValueError):
    """A signed link that is not valid (any more); the message is safe to show."""


class ExpiredLink(BadLink):
    """A signed link that was valid but is older than its purpose allows."""


class Signer:
    def __init__(self, secret_key: str) -> None:
        self._timed = URLSafeTimedSerializer(secret_key)
        # Links that never expire (unsubscribe, view in browser) carry no time stamp: the
        # links in digests already sent stay valid.
        self._lasting = URLSafeSerializer(secret_key)

    def sign(self, value: Any, purpose: str, *, lasting: bool = False) -> str:
        return (self._lasting if lasting else self._timed).dumps(value, salt=purpose)

    def read(
        self, token: str, purpose: str, *, max_age: int | None = None, lasting: bool = False
    ) -> Any:
        """The signed value; BadLink when the token is not one of ours (or too old)."""
        try:
            if lasting:
                return self._lasting.loads(token, salt=purpose)
            return self._timed.loads(token, salt=purpose, max_age=max_age)
        except SignatureExpired:
            raise ExpiredLink("This link has expired; ask for a new one.") from None
        except BadSignature:
            raise BadLink("This link is not valid; check that it was copied whole.") from None
