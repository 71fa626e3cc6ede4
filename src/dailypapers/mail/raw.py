"""A message written out by hand: headers and a ready MIME body. For bulk mail (digests),
where the `email` package's generator costs more than composing the digest itself."""

from __future__ import annotations

from email.header import Header


def header_value(value: str) -> str:
    """ASCII as is; anything else as an RFC 2047 encoded word."""
    return value if value.isascii() else Header(value, "utf-8").encode()


class RawMessage:
    def __init__(self, headers: list[tuple[str, str]], body: bytes) -> None:
        self.headers = [(name, header_value(value)) for name, value in headers]
        self.body = body

    def get(self, name: str, default: str | None = None) -> str | None:
        return next((v for n, v in self.headers if n.lower() == name.lower()), default)

    def get_all(self, name: str, default: list[str] | None = None) -> list[str]:
        found = [v for n, v in self.headers if n.lower() == name.lower()]
        return found or (default or [])

    def __contains__(self, name: str) -> bool:
        return self.get(name) is not None

    def __getitem__(self, name: str) -> str | None:
        return self.get(name)

    def __setitem__(self, name: str, value: str) -> None:
        self.headers.append((name, header_value(value)))

    def as_bytes(self) -> bytes:
        head = "".join(f"{name}: {value}\r\n" for name, value in self.headers)
        return head.encode("ascii") + b"\r\n" + self.body

    def as_string(self) -> str:
        return self.as_bytes().decode("utf-8", "replace")


def multipart_alternative(
    text: str, html: str, boundary: str
) -> tuple[list[tuple[str, str]], bytes]:
    """MIME headers and body for a text part and an HTML part, both UTF-8, 8bit."""

    def part(kind: str, content: str) -> bytes:
        content = content.replace("\r\n", "\n").replace("\n", "\r\n")
        return (
            (
                f'--{boundary}\r\nContent-Type: text/{kind}; charset="utf-8"\r\n'
                "Content-Transfer-Encoding: 8bit\r\n\r\n"
            ).encode()
            + content.encode("utf-8")
            + b"\r\n"
        )

    body = part("plain", text) + part("html", html) + f"--{boundary}--\r\n".encode()
    headers = [
        ("MIME-Version", "1.0"),
        ("Content-Type", f'multipart/alternative; boundary="{boundary}"'),
    ]
    return headers, body
