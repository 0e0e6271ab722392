"""The README documents every setting and every stats key the code has."""

from __future__ import annotations

import re
import shutil
import subprocess

from settings import base
from settings.environment import EnvironmentSettingError, overrides
from tests.crawling import REPO, Crawl

README = (REPO / "README.md").read_text(encoding="utf-8")


def readme_table_names(prefix: str) -> set[str]:
    return set(re.findall(r"^\| `(" + prefix + r"[^`]*)` \|", README, flags=re.MULTILINE))


def test_every_news_setting_is_in_the_readme_table() -> None:
    defined = {name for name in vars(base) if name.startswith("NEWS_")}
    documented = readme_table_names("NEWS_")
    assert defined - documented == set(), "settings missing from the README table"
    assert documented - defined == set(), "README documents settings that do not exist"


def assert_stats_documented(stats: dict) -> None:
    """Every news/ key of a crawl matches a row of the README's stats table; reasons are explained."""
    documented = readme_table_names("news/")
    patterns = [
        re.compile("^" + re.sub(r"<[a-z]+>", "[^/]+", name.replace("<path>", ".+")) + "$")
        for name in documented
    ]
    keys = [key for key in stats if key.startswith("news/")]
    assert keys
    missing = [key for key in keys if not any(p.match(key) for p in patterns)]
    assert missing == []
    reasons = {key.split("/")[-1] for key in keys if key.startswith(("news/dropped/", "news/skipped/"))}
    for reason in reasons:
        assert f"`{reason}`" in README, f"reason {reason} is not explained in the README"


def test_every_stats_key_of_a_crawl_is_in_the_readme_table(demo_crawl: Crawl) -> None:
    assert_stats_documented(demo_crawl.summary["stats"])


def test_environment_overrides_are_typed() -> None:
    env = {
        "NEWS_SINK_MAX_ITEMS": "5",
        "NEWS_SINK_ENABLED": "false",
        "NEWS_EXTRACT_STRIP": ".ad, .promo",
        "OTHER": "1",
    }
    got = overrides({"NEWS_SINK_MAX_ITEMS": 1, "NEWS_SINK_ENABLED": True, "NEWS_EXTRACT_STRIP": []}, env)
    assert got == {
        "NEWS_SINK_MAX_ITEMS": 5,
        "NEWS_SINK_ENABLED": False,
        "NEWS_EXTRACT_STRIP": [".ad", ".promo"],
    }


def test_bad_environment_value_names_the_variable() -> None:
    try:
        overrides({"NEWS_SINK_MAX_ITEMS": 1}, {"NEWS_SINK_MAX_ITEMS": "many"})
    except EnvironmentSettingError as exc:
        assert "NEWS_SINK_MAX_ITEMS" in str(exc)
    else:
        raise AssertionError("a bad value was accepted")


def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint") or str(REPO / ".venv" / "bin" / "hadolint")
    result = subprocess.run([hadolint, str(REPO / "Dockerfile")], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
