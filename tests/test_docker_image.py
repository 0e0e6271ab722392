"""The production image, really built (podman) and really run (its filesystem, chrooted).

There is no Docker engine here: Debian's podman builds the Dockerfile, on a base
image made with debootstrap (base images cannot be pulled) with Debian's python3
passed in through the PYTHON_IMAGE build argument. `podman run` fails on this
machine's rlimits, so the image's filesystem is mounted and run with chroot as the
image's user, with /data bind-mounted, as a container runtime would: its entrypoint, then its
command (`news-ingest crawlall` by default).
Needs root, podman and debootstrap: `.ci/run` installs them; elsewhere the test is
skipped unless CI is set.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from demo.server import running_site
from tests.crawling import REPO, read_parts, sources_file

BASE = "localhost/news-ingest-test-base:bookworm"
IMAGE = "localhost/news-ingest:test"
PODMAN = ["podman", "--cgroup-manager=cgroupfs"]
COMPILERS = ("gcc", "cc", "c++", "g++", "make", "x86_64-linux-gnu-gcc-12", "aarch64-linux-gnu-gcc-12")


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "needs root (mount, chroot)"
    for tool in ("podman", "debootstrap", "chroot", "mount"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install podman debootstrap)"
    return None


pytestmark = pytest.mark.skipif(
    _missing() is not None and not os.environ.get("CI"), reason=f"image build test: {_missing()}"
)


def podman(*args: str, timeout: float = 900) -> str:
    result = subprocess.run([*PODMAN, *args], capture_output=True, text=True, timeout=timeout, check=False)
    assert result.returncode == 0, f"podman {' '.join(args)}: {result.stdout[-3000:]}{result.stderr[-3000:]}"
    return result.stdout


def ensure_base() -> None:
    """A minimal Debian bookworm with python3 and its venv module, as a local base image."""
    if subprocess.run([*PODMAN, "image", "exists", BASE], check=False).returncode == 0:
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "rootfs"
        subprocess.run(
            ["debootstrap", "--variant=minbase", "--include=python3,python3-venv", "bookworm", str(root),
             "http://deb.debian.org/debian"],
            check=True, capture_output=True, timeout=900,
        )  # fmt: skip
        tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
        subprocess.run([*PODMAN, "import", "-", BASE], stdin=tar.stdout, check=True, capture_output=True)
        tar.wait()


@pytest.fixture(scope="module")
def image() -> Iterator[str]:
    ensure_base()
    args = [
        "build",
        "--isolation=chroot",
        "--network=host",
        "--build-arg",
        f"PYTHON_IMAGE={BASE}",
        "-t",
        IMAGE,
    ]
    ca_bundle = os.environ.get("PIP_CERT") or "/etc/ssl/certs/ca-certificates.crt"
    if Path(ca_bundle).is_file():
        args += ["--secret", f"id=pipcert,src={ca_bundle}"]  # for pip only, never stored in the image
    podman(*args, str(REPO))
    yield IMAGE
    subprocess.run([*PODMAN, "rmi", "-f", IMAGE], capture_output=True, check=False)


@contextmanager
def mounted(image: str, data: Path) -> Iterator[Path]:
    """The image's filesystem, with /data, /dev, /proc and a writable /tmp, as a runtime gives them."""
    root = Path(podman("image", "mount", image).strip())
    with ExitStack() as stack:
        stack.callback(podman, "image", "unmount", image)
        for source, target, kind in (
            (str(data), "data", "bind"),
            ("/dev", "dev", "bind"),
            ("proc", "proc", "proc"),
        ):
            options = ["--bind", source] if kind == "bind" else ["-t", "proc", source]
            subprocess.run(["mount", *options, str(root / target)], check=True)
            stack.callback(subprocess.run, ["umount", "-l", str(root / target)], check=False)
        for folder in ("tmp", "dev/shm"):  # a container runtime gives both, writable by everyone
            subprocess.run(
                ["mount", "-t", "tmpfs", "-o", "mode=1777", "tmpfs", str(root / folder)], check=True
            )
            stack.callback(subprocess.run, ["umount", "-l", str(root / folder)], check=False)
        yield root


def config(image: str) -> dict:
    return json.loads(podman("image", "inspect", image))[0]["Config"]


def in_image(
    root: Path, image: str, *argv: str, cwd: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run the image as a container runtime would: its entrypoint with ``argv`` (or its CMD), as
    its user, with its environment, in its WORKDIR (or ``cwd``)."""
    settings = config(image)
    environment = dict(item.split("=", 1) for item in settings["Env"])
    environment.update(env)
    command = [*(settings.get("Entrypoint") or []), *(argv or settings["Cmd"])]
    return subprocess.run(
        ["chroot", f"--userspec={settings['User']}", str(root), "/usr/bin/env", "-i",
         *[f"{key}={value}" for key, value in environment.items()],
         "/bin/sh", "-c", 'cd "$1" && shift && exec "$@"', "sh", cwd or settings["WorkingDir"], *command],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def test_final_stage_has_no_compiler_and_runs_as_non_root(image: str, tmp_path: Path) -> None:
    settings = config(image)
    assert settings["User"] == "10001:10001"
    assert settings["Entrypoint"] == ["/usr/local/bin/news-ingest-entrypoint"]
    assert settings["Cmd"] == ["news-ingest", "crawlall"]
    assert settings["WorkingDir"] == "/app"
    assert "SCRAPY_SETTINGS_MODULE=news_ingest.settings.base" in settings["Env"]
    with mounted(image, tmp_path) as root:
        for folder in ("usr/bin", "usr/local/bin", "bin"):
            present = [name for name in COMPILERS if (root / folder / name).exists()]
            assert present == [], f"compilers in the final stage: {present}"
        assert not (root / "run" / "secrets" / "pipcert").exists()
        assert sorted(path.name for path in (root / "app").iterdir()) == ["sources.example.toml"]
        whoami = in_image(root, image, "id", "-u")
        schema = in_image(
            root,
            image,
            "python",
            "-c",
            "import news_ingest.pipelines.validate as v; print(v.SCHEMA_PATH.resolve())",
        )
    assert whoami.stdout.strip() == "10001"
    # installed, not copied: the schema beside the packages in site-packages
    assert schema.returncode == 0, schema.stderr[-2000:]
    installed = schema.stdout.strip()
    assert installed.startswith("/opt/venv/lib/python3"), installed
    assert installed.endswith("/site-packages/news_ingest/schema/record.schema.json"), installed


def test_news_ingest_runs_from_any_directory(image: str, tmp_path: Path) -> None:
    with mounted(image, tmp_path) as root:
        runs = {cwd: in_image(root, image, "scrapy", "list", cwd=cwd) for cwd in ("/app", "/", "/tmp")}
        usages = {
            cwd: in_image(root, image, "news-ingest", "crawlall", "-h", cwd=cwd)
            for cwd in ("/app", "/", "/tmp")
        }
        version = in_image(root, image, "news-ingest", "--version", cwd="/")
    for cwd, run in runs.items():
        assert (run.returncode, run.stdout.split()) == (0, ["archive", "article", "news"]), (
            cwd,
            run.stderr[-2000:],
        )
    for cwd, usage in usages.items():
        assert usage.returncode == 0 and "news-ingest crawlall" in usage.stdout, (cwd, usage.stderr[-2000:])
    assert version.stdout.startswith("news-ingest 0."), version.stdout


def test_crawlall_in_the_image_writes_to_the_mounted_data_folder(image: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    os.chown(data, 10001, 10001)
    with running_site() as site:
        sources_file(site.base_url, data / "sources.toml")
        with mounted(image, data) as root:
            run = in_image(  # the image's default command, through its entrypoint
                root, image, NEWS_SOURCES="/data/sources.toml", NEWS_ALLOW_PRIVATE_NETWORKS="true"
            )
    assert run.returncode == 0, run.stderr[-4000:]
    records = read_parts(data / "output")
    assert len(records) == 20  # the demo sources: 8 Daily Lantern articles and 12 from the demo home page
    parts = [path for path in (data / "output").rglob("*.jsonl")]
    assert parts and all(path.stat().st_uid == 10001 for path in parts)
    assert (data / "state" / "news.sqlite").stat().st_uid == 10001


def test_a_data_folder_the_image_user_cannot_write_is_one_clear_line(image: str, tmp_path: Path) -> None:
    data = tmp_path / "data"  # what `docker run -v "$PWD/data:/data"` mounts when root made the folder
    data.mkdir(mode=0o755)
    os.chown(data, 0, 0)
    with mounted(image, data) as root:
        runs = [
            in_image(root, image),
            in_image(root, image, "news-ingest", "crawl", "article", "-a", "url=https://example.org/a"),
            in_image(root, image, "scrapy", "crawlall", cwd="/"),
        ]
        listed = in_image(root, image, "news-ingest", "--version")  # writes nothing: not checked
    for run in runs:
        assert run.returncode == 2, run.stderr[-2000:]
        assert run.stdout == ""
        lines = run.stderr.splitlines()
        assert len(lines) == 1, run.stderr[-2000:]
        expected = "news-ingest: cannot start: /data (NEWS_STATE) is not writable by uid 10001 gid 10001"
        assert lines[0].startswith(expected), lines[0]
        assert "sudo chown -R 10001:10001 <the host folder mounted on /data>" in lines[0]
        assert '--user "$(id -u):$(id -g)"' in lines[0] and "fsGroup" in lines[0]
    assert listed.returncode == 0, listed.stderr[-2000:]
    assert list(data.iterdir()) == []
