"""The one typed settings object, read from `DAILYPAPERS_*` variables and an optional `.env`."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path("var")


class SettingsError(Exception):
    """A setting has a bad value; the message names it."""


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    host: str
    port: int
    implicit_tls: bool
    starttls: str  # "auto" or "required"
    username: str | None
    password: str | None

    @classmethod
    def from_url(cls, url: str) -> SmtpTarget:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("must look like smtp://user:password@host:587 or smtps://host:465")
        query = parse_qs(parts.query)
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if parts.scheme == "smtps" else 25),
            implicit_tls=parts.scheme == "smtps",
            starttls=query.get("starttls", ["auto"])[0],
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_days(text: str) -> frozenset[int]:
    """'mon,tue,wed' → weekday numbers (Monday 0); raises ValueError naming a bad day."""
    days = set()
    for part in text.lower().replace(" ", "").split(","):
        if part not in DAY_NAMES:
            raise ValueError(f"{part!r} is not a day (use mon, tue, … sun)")
        days.add(DAY_NAMES.index(part))
    if not days:
        raise ValueError("give at least one day")
    return frozenset(days)


class Settings(BaseSettings):
    """Every setting of the site. Each field is documented in docs/configuration.md."""

    model_config = SettingsConfigDict(
        env_prefix="DAILYPAPERS_", env_file=".env", extra="ignore", validate_default=True
    )

    data_dir: Path = Field(
        DEFAULT_DATA_DIR, description="Folder for the SQLite database and the generated secret key."
    )
    database_url: str = Field(
        "",
        description="SQLAlchemy URL of the database; empty means SQLite in DATA_DIR.",
    )
    secret_key: str = Field(
        "",
        description="Signs session cookies and tokens; empty means one is generated once and "
        "kept in DATA_DIR/secret_key.",
    )
    base_url: str = Field(
        "http://127.0.0.1:8000", description="Public address of the site, used in links and feeds."
    )
    timezone: str = Field("UTC", description="Time zone in which featured dates are calendar days.")
    site_name: str = Field("Daily Papers", description="Name shown in the header and page titles.")
    load_demo_data: bool = Field(
        True, description="Load the bundled real papers when `serve` starts on an empty database."
    )
    page_size: int = Field(50, ge=1, le=100, description="Cards per page on the web pages.")
    trending_window_days: int = Field(
        14, ge=1, le=365, description="How many days of featured papers trending considers."
    )
    dense_search: bool = Field(
        True, description="Rank search results by meaning too (embeddings), not only by words."
    )
    embed_in_background: bool = Field(
        True,
        description="Let the web app embed new papers itself (one process per machine does); "
        "turn off when a worker or `dailypapers index` does it.",
    )
    log_level: str = Field("info", description="Log level: debug, info, warning or error.")
    response_cache_mb: int = Field(
        64,
        ge=0,
        le=65536,
        description="Memory the response cache of each web process may hold, in MiB; the "
        "least recently used answers are dropped first (0: keep none).",
    )
    max_body_kb: int = Field(
        192,  # the longest comment (20,000 characters, 3 bytes each) percent-encoded by a form
        ge=1,
        le=1048576,
        description="Largest request body accepted (forms and JSON), in KiB; larger ones are "
        "answered 413 without being read.",
    )
    searches_per_minute: int = Field(
        60,
        ge=0,
        le=1_000_000,
        description="Searches one IP address may make per minute in each web process (the "
        "search page, its API and feeds, similar papers); more are answered 429 (0: no limit).",
    )
    smtp_url: str = Field(
        "",
        description="Where email goes: smtp://user:password@host:587 (STARTTLS when offered), "
        "smtps://user:password@host:465 (TLS); empty writes messages to standard error instead.",
    )
    mail_from: str = Field(
        "Daily Papers <noreply@localhost>", description="The From address of every email."
    )
    submission_max_age_days: int = Field(
        14,
        ge=0,
        le=36500,
        description="Papers first published on arXiv longer ago than this cannot be submitted "
        "(curators are exempt).",
    )
    submissions_per_day: int = Field(
        5,
        ge=0,
        le=1000,
        description="How many papers a member may submit per day (curators are exempt).",
    )
    digest_days: str = Field(
        "mon,tue,wed,thu,fri",
        description="Days a daily digest goes out (arXiv announces Sunday to Thursday evenings).",
    )
    digest_weekly_day: str = Field("mon", description="Day the weekly digest goes out.")
    digest_send_hour: int = Field(
        7, ge=0, le=23, description="Hour (site time zone) from which the day's digests are sent."
    )
    digest_scheduler: bool = Field(
        True,
        description="Let the web app send due digests itself (no cron needed); turn off when a "
        "worker or cron runs `dailypapers digest send`.",
    )
    arxiv_api_url: str = Field(
        "https://export.arxiv.org/api/query",
        description="The arXiv API, for fetching submitted papers' metadata.",
    )
    arxiv_request_interval: float = Field(
        3.0,
        ge=0,
        le=600,
        description="Seconds between two requests to arXiv (arXiv asks for at least 3).",
    )
    arxiv_fetch_deadline: float = Field(
        10.0,
        ge=1,
        le=120,
        description="Seconds a submission waits for arXiv at most, its turn and the interval "
        "between requests included; past it the member is told arXiv is not answering.",
    )
    arxiv_concurrent_fetches: int = Field(
        2,
        ge=1,
        le=20,
        description="How many submissions of papers new to the site may wait on arXiv at once "
        "in each web process; more are answered 503 with Retry-After.",
    )

    arxiv_oai_url: str = Field(
        "https://oaipmh.arxiv.org/oai", description="arXiv's OAI-PMH interface, for the harvest."
    )
    harvest_categories: str = Field(
        "cs.AI,cs.CL,cs.CV,cs.LG,stat.ML",
        description="arXiv categories the harvest fetches (comma-separated; an OAI-PMH set such "
        "as cs:cs:LG is accepted too).",
    )
    harvest_scheduler: bool = Field(
        True,
        description="Let the web app harvest arXiv itself after each announcement (Sunday to "
        "Thursday, 20:00 US Eastern); turn off when a worker or cron runs `dailypapers harvest`.",
    )
    harvest_delay_minutes: int = Field(
        45,
        ge=0,
        le=1440,
        description="Minutes after an announcement before the scheduled harvest asks arXiv.",
    )
    arxiv_holidays: str = Field(
        "",
        description="Extra dates (YYYY-MM-DD, comma-separated) with no arXiv announcement, from "
        "arXiv's yearly schedule; New Year's Day, US Thanksgiving and Christmas are known.",
    )
    harvest_proposals: int = Field(
        20,
        ge=0,
        le=500,
        description="How many newly harvested papers each harvest proposes for the daily list, "
        "for curators to accept in /admin (0: none).",
    )
    hf_daily_papers_url: str = Field(
        "https://huggingface.co/api/daily_papers",
        description="Hugging Face's daily papers API, read by `dailypapers harvest --from-hf`.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(
                f"unknown time zone {value!r} (use e.g. UTC or Europe/Paris)"
            ) from error
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must start with sqlite:// or postgresql://")
        return value

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: str) -> str:
        if value:
            SmtpTarget.from_url(value)  # raises ValueError naming the expected form
        return value

    @field_validator("digest_days", "digest_weekly_day")
    @classmethod
    def _days(cls, value: str) -> str:
        parse_days(value)
        return value.lower().replace(" ", "")

    @field_validator("harvest_categories")
    @classmethod
    def _categories(cls, value: str) -> str:
        return ",".join(check_categories(value))

    @field_validator("arxiv_holidays")
    @classmethod
    def _holidays(cls, value: str) -> str:
        for item in filter(None, (v.strip() for v in value.split(","))):
            try:
                date.fromisoformat(item)
            except ValueError:
                raise ValueError(f"{item[:40]!r} is not a date like 2026-12-24") from None
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.lower() not in {"debug", "info", "warning", "error"}:
            raise ValueError("must be debug, info, warning or error")
        return value.lower()

    @property
    def harvest_category_list(self) -> list[str]:
        return self.harvest_categories.split(",")

    @property
    def holiday_dates(self) -> tuple[date, ...]:
        return tuple(
            date.fromisoformat(v.strip()) for v in self.arxiv_holidays.split(",") if v.strip()
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            url = self.database_url
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
            return url
        return f"sqlite:///{(self.data_dir / 'dailypapers.db').resolve()}"

    @property
    def keyword_index_dir(self) -> Path:
        """The keyword search index (derived from the database; rebuilt if deleted)."""
        return self.data_dir / "keyword-index"

    def resolved_secret_key(self) -> str:
        """The configured key, or one generated on first use and kept in the data folder."""
        if self.secret_key:
            return self.secret_key
        key_file = self.data_dir / "secret_key"
        if key_file.exists():
            return key_file.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        key_file.touch(mode=0o600)
        key_file.write_text(key)
        return key


_CATEGORY = re.compile(r"[A-Za-z-]+(\.[A-Za-z-]+)?|[A-Za-z-]+(:[A-Za-z-]+){1,2}")


def check_categories(value: str) -> list[str]:
    """arXiv categories (cs.LG) or OAI-PMH sets (cs:cs:LG), comma-separated; ValueError if not."""
    categories = [c.strip() for c in value.split(",") if c.strip()]
    if not categories:
        raise ValueError("name at least one arXiv category, e.g. cs.LG")
    for category in categories:
        if not _CATEGORY.fullmatch(category):
            raise ValueError(f"{category[:40]!r} is not an arXiv category like cs.LG")
    return categories


def load_settings() -> Settings:
    """Read the settings, turning a validation failure into one readable line."""
    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"DAILYPAPERS_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in error.errors()
        )
        raise SettingsError(f"bad setting: {problems}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
