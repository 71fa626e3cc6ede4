"""Settings refuse bad values at start, and every setting is documented."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dailypapers.settings import Settings, SettingsError, load_settings

from .conftest import REPO_ROOT


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DAILYPAPERS_TIMEZONE", "Mars/Base", "unknown time zone"),
        ("DAILYPAPERS_DATABASE_URL", "mysql://x", "sqlite:// or postgresql://"),
        ("DAILYPAPERS_BASE_URL", "ftp://x", "http"),
        ("DAILYPAPERS_PAGE_SIZE", "0", "PAGE_SIZE"),
        ("DAILYPAPERS_PAGE_SIZE", "many", "PAGE_SIZE"),
        ("DAILYPAPERS_LOG_LEVEL", "loud", "LOG_LEVEL"),
        ("DAILYPAPERS_LOAD_DEMO_DATA", "perhaps", "LOAD_DEMO_DATA"),
    ],
)
def test_bad_values_are_refused_with_the_setting_named(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=message) as error:
        load_settings()
    assert variable in str(error.value)


def test_the_cli_reports_a_bad_setting_in_one_line(tmp_path: Path) -> None:
    env = dict(os.environ, DAILYPAPERS_TIMEZONE="Mars/Base", DAILYPAPERS_DATA_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-m", "dailypapers", "db", "upgrade"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "DAILYPAPERS_TIMEZONE" in result.stderr and "Traceback" not in result.stderr


def test_every_setting_is_documented() -> None:
    documented = (REPO_ROOT / "docs" / "configuration.md").read_text()
    for name in Settings.model_fields:
        assert f"`DAILYPAPERS_{name.upper()}`" in documented, name


def test_generated_secret_key_is_kept_private_and_stable(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    key = settings.resolved_secret_key()
    assert len(key) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert Settings(_env_file=None, data_dir=tmp_path).resolved_secret_key() == key  # type: ignore[call-arg]
