"""The deployment files say what the code does: deploy/docker-compose.yml, deploy/kubernetes-cronjob.yaml,
deploy/crontab.example and deploy/entrypoint.sh, read against the Dockerfile, the settings and the
`news-ingest` command. Every expected value is read from the files, not from what the code gives."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from settings import base
from tests.crawling import REPO

DEPLOY = REPO / "deploy"
COMPOSE = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))
KUBERNETES = [doc for doc in yaml.safe_load_all((DEPLOY / "kubernetes-cronjob.yaml").read_text()) if doc]
CRONTAB = (DEPLOY / "crontab.example").read_text(encoding="utf-8")
SHARD_CRONTAB = (DEPLOY / "crontab-shards.example").read_text(encoding="utf-8")
INDEXED = [doc for doc in yaml.safe_load_all((DEPLOY / "kubernetes-indexed-cronjob.yaml").read_text()) if doc]
DOCKER_SECTION = (REPO / "docs" / "how-to" / "docker-kubernetes.md").read_text(encoding="utf-8")
ENTRYPOINT = DEPLOY / "entrypoint.sh"
SETTINGS = {name for name in vars(base) if name.startswith("NEWS_")}
# A reference `docker pull` accepts: [registry/]name[/name...]:tag, lower case, a real tag.
PULLABLE = re.compile(
    r"^(?:[a-z0-9.-]+(?::\d+)?/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*:\w[\w.-]*$"
)


# --- the Dockerfile, as the image will be ---------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in (REPO / "Dockerfile").read_text(encoding="utf-8").splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        keyword, _, rest = full.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    return instructions


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    last_from = max(index for index, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from + 1 :]


def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, rest in final_stage():
        if keyword == "ENV":
            env.update(item.split("=", 1) for item in shlex.split(rest))
    return env


def image_instruction(name: str) -> str:
    values = [rest for keyword, rest in final_stage() if keyword == name]
    assert len(values) == 1, f"{name} in the final stage: {values}"
    return values[0]


def image_user() -> tuple[int, int]:
    uid, gid = image_instruction("USER").split(":")
    return int(uid), int(gid)


def test_the_dockerfile_parses_to_what_the_deploy_files_rely_on() -> None:
    env = image_env()
    assert env["NEWS_STATE"] == "/data/state/news.sqlite"
    assert env["NEWS_OUTPUT"] == "/data/output"
    assert env["NEWS_SOURCES"] == "/app/sources.toml"
    assert env["SCRAPY_SETTINGS_MODULE"] == "news_ingest.settings.base"
    assert image_user() == (10001, 10001)
    assert json.loads(image_instruction("VOLUME")) == ["/data"]
    assert json.loads(image_instruction("CMD")) == ["news-ingest", "crawlall"]


def test_the_image_entrypoint_is_the_deploy_script() -> None:
    entrypoint = json.loads(image_instruction("ENTRYPOINT"))
    copies = [shlex.split(rest) for keyword, rest in final_stage() if keyword == "COPY"]
    copied_to = {words[-1]: words[-2] for words in copies if "deploy/entrypoint.sh" in words}
    assert entrypoint == ["/usr/local/bin/news-ingest-entrypoint"]
    assert copied_to == {entrypoint[0]: "deploy/entrypoint.sh"}
    assert ENTRYPOINT.read_text().startswith("#!/bin/sh\n")


# --- docker-compose.yml ---------------------------------------------------------------------


def services() -> dict[str, dict[str, Any]]:
    return COMPOSE["services"]


def from_deploy(relative: str) -> Path:
    """A relative path in the compose file: Compose resolves it from the file's folder."""
    return (DEPLOY / relative).resolve()


def test_compose_names_only_pullable_images() -> None:
    images = {name: service["image"] for name, service in services().items() if "image" in service}
    assert images == {
        "s3": "chrislusf/seaweedfs:latest",
        "bucket": "chrislusf/seaweedfs:latest",
        "postgres": "postgres:16-bookworm",  # the shared state of the shard workers
    }
    for image in images.values():
        assert PULLABLE.match(image), image
    assert "minio" not in (DEPLOY / "docker-compose.yml").read_text().lower()
    built = [name for name, service in services().items() if "image" not in service]
    assert built == ["crawler", "worker-0", "worker-1"]  # our image, built rather than pulled
    assert {name for name, service in services().items() if service.get("profiles")} == {
        "postgres",
        "worker-0",
        "worker-1",
    }  # `docker compose up` alone starts the one-machine setup


def test_compose_shard_workers_share_one_postgres_state_and_split_the_sources() -> None:
    workers = {name: services()[name] for name in ("worker-0", "worker-1")}
    assert [w["command"] for w in workers.values()] == [
        ["news-ingest", "crawlall", "--shard", "0/2"],
        ["news-ingest", "crawlall", "--shard", "1/2"],
    ]
    pg = services()["postgres"]["environment"]
    url = f"postgresql://{pg['POSTGRES_USER']}:{pg['POSTGRES_PASSWORD']}@postgres:5432/{pg['POSTGRES_DB']}"
    for worker in workers.values():
        assert worker["environment"]["NEWS_STATE"] == url
        assert worker["depends_on"]["postgres"] == {"condition": "service_healthy"}
        assert worker["build"]["context"] == ".."
    spools = [next(v for v in w["volumes"] if isinstance(v, str)).split(":")[0] for w in workers.values()]
    assert len(set(spools)) == 2, "each worker a spool of its own"


def test_compose_builds_the_crawler_from_the_repository_root() -> None:
    build = services()["crawler"]["build"]
    context = from_deploy(build["context"])
    assert context == REPO
    assert (context / build.get("dockerfile", "Dockerfile")).is_file()


def bind_mounts() -> Iterator[tuple[str, dict[str, Any]]]:
    for name, service in services().items():
        for volume in service.get("volumes", []):
            if isinstance(volume, dict) and volume["type"] == "bind":
                yield name, volume


def test_compose_host_paths_resolve_from_deploy_and_are_never_created() -> None:
    sources = {(name, volume["source"]): volume for name, volume in bind_mounts()}
    assert set(sources) == {
        ("s3", "./seaweedfs-s3.json"),
        ("crawler", "../sources.toml"),
        ("worker-0", "../sources.toml"),
        ("worker-1", "../sources.toml"),
    }
    for (_, source), volume in sources.items():
        # a missing file must stop `docker compose`, not become an empty folder Docker creates
        assert volume["bind"]["create_host_path"] is False, source
        assert volume["read_only"] is True, source
    assert from_deploy("./seaweedfs-s3.json").is_file()
    config = json.loads(from_deploy("./seaweedfs-s3.json").read_text())
    keys = {(c["accessKey"], c["secretKey"]) for i in config["identities"] for c in i.get("credentials", [])}
    env = services()["crawler"]["environment"]
    assert keys == {(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"])}
    # sources.toml is the user's own, at the repository root; the Docker page of the docs says to create it
    assert from_deploy("../sources.toml") == REPO / "sources.toml"
    assert (REPO / "sources.example.toml").is_file()
    compose_steps = DOCKER_SECTION.split("`deploy/docker-compose.yml`", 1)[-1]
    assert "cp sources.example.toml sources.toml" in compose_steps
    assert "docker compose -f deploy/docker-compose.yml up -d s3 bucket" in compose_steps
    assert "docker compose -f deploy/docker-compose.yml run --rm crawler" in compose_steps


def test_compose_short_volumes_are_named_volumes() -> None:
    declared = set(COMPOSE.get("volumes", {}))
    used = set()
    for service in services().values():
        for volume in service.get("volumes", []):
            if isinstance(volume, str):
                source = volume.split(":")[0]
                assert not source.startswith((".", "/", "~")), f"a host path in short syntax: {volume}"
                used.add(source)
    assert used == declared == {"s3data", "crawler-data", "pgdata", "worker-0-spool", "worker-1-spool"}


def test_compose_bucket_and_endpoint_match_the_store() -> None:
    s3 = services()["s3"]
    bucket_command = " ".join(services()["bucket"]["command"])
    env = services()["crawler"]["environment"]
    bucket = re.search(r"s3\.bucket\.create -name (\S+?)\"", bucket_command)
    assert bucket is not None, bucket_command
    assert env["NEWS_OUTPUT"].startswith(f"s3://{bucket.group(1)}/")
    assert env["AWS_ENDPOINT_URL"] == "http://s3:8333"  # the service name, and the S3 gateway's port
    assert "-s3" in s3["command"] and s3["ports"] == ["127.0.0.1:8333:8333"]
    assert services()["crawler"]["depends_on"] == {"bucket": {"condition": "service_completed_successfully"}}
    assert services()["bucket"]["depends_on"] == {"s3": {"condition": "service_healthy"}}


# --- the commands in compose, Kubernetes and cron are real -------------------------------------


def kubernetes(kind: str) -> dict[str, Any]:
    found = [doc for doc in KUBERNETES if doc["kind"] == kind]
    assert len(found) == 1, kind
    return found[0]


def pod_spec() -> dict[str, Any]:
    return kubernetes("CronJob")["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def container() -> dict[str, Any]:
    (only,) = pod_spec()["containers"]
    return only


def crontab_job() -> str:
    jobs = [line for line in CRONTAB.splitlines() if re.match(r"^[*0-9@]", line)]
    assert len(jobs) == 1, jobs
    return jobs[0]


def crontab_command() -> list[str]:
    """The job's command line, after the five schedule fields and the NAME=value assignments."""
    words = shlex.split(crontab_job().split(";")[0])[5:]
    while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
        words.pop(0)
    return words


def news_ingest() -> str:
    found = shutil.which("news-ingest") or str(REPO / ".venv" / "bin" / "news-ingest")
    assert Path(found).exists(), "news-ingest is not installed: make install"
    return found


@pytest.mark.parametrize(
    ("where", "command"),
    [
        ("docker-compose.yml crawler", lambda: services()["crawler"]["command"]),
        ("kubernetes-cronjob.yaml args", lambda: container()["args"]),
        ("crontab.example", crontab_command),
        ("Dockerfile CMD", lambda: json.loads(image_instruction("CMD"))),
        ("docker-compose.yml worker-0", lambda: services()["worker-0"]["command"]),
        ("kubernetes-indexed-cronjob.yaml args", lambda: indexed_container()["args"]),
    ],
)
def test_the_deployed_command_is_a_news_ingest_command(where: str, command: Any, tmp_path: Path) -> None:
    argv = command()
    assert Path(argv[0]).name == "news-ingest", (where, argv)
    assert argv[1] == "crawlall", (where, argv)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("NEWS_", "SCRAPY_"))}
    result = subprocess.run(
        [news_ingest(), argv[1], "-h"], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, (where, result.stdout[-1000:], result.stderr[-1000:])
    assert f"news-ingest {argv[1]}" in result.stdout or f"scrapy {argv[1]}" in result.stdout


def test_kubernetes_uses_args_so_the_entrypoint_runs() -> None:
    assert "command" not in container()  # `command` would replace the image's entrypoint
    assert "minio" not in (DEPLOY / "kubernetes-cronjob.yaml").read_text().lower()
    images = [c["image"] for c in pod_spec()["containers"]]
    assert images == ["registry.example.com/news-ingest:latest"]  # a placeholder: your registry
    assert all(PULLABLE.match(image) for image in images)
    assert "registry.example.com" in (DEPLOY / "kubernetes-cronjob.yaml").read_text().split("apiVersion")[0]


def test_the_crontab_uses_absolute_paths() -> None:
    job = crontab_job()
    assert "cd " not in job
    argv = crontab_command()
    assignments = dict(re.findall(r"\b(NEWS_[A-Z_]+)=(\S+)", job))
    assert argv[0] == "$INGEST_HOME/.venv/bin/news-ingest"
    assert re.search(r"^INGEST_HOME=/\S+$", CRONTAB, flags=re.MULTILINE)
    assert set(assignments) == {"NEWS_SOURCES", "NEWS_OUTPUT", "NEWS_STATE"}
    for name, value in assignments.items():
        assert value.startswith("/"), f"{name}={value} is relative to cron's working directory"


# --- mounts, users and variables agree with the Dockerfile and the settings --------------------


def contains(mount: str, path: str) -> bool:
    return PurePosixPath(path).is_relative_to(PurePosixPath(mount))


def test_compose_mounts_match_the_image_paths() -> None:
    crawler = services()["crawler"]
    env = {**image_env(), **crawler["environment"]}
    named = [v.split(":") for v in crawler["volumes"] if isinstance(v, str)]
    bound = {v["target"]: v["source"] for v in crawler["volumes"] if isinstance(v, dict)}
    assert [target for _, target in named] == json.loads(image_instruction("VOLUME"))
    data = named[0][1]
    assert contains(data, env["NEWS_STATE"])  # state, lock and S3 spool on the kept volume
    assert env["NEWS_OUTPUT"].startswith("s3://") or contains(data, env["NEWS_OUTPUT"])
    assert bound == {env["NEWS_SOURCES"]: "../sources.toml"}


def test_kubernetes_mounts_match_the_image_paths() -> None:
    env = {**image_env(), **{item["name"]: item["value"] for item in container()["env"]}}
    mounts = {mount["mountPath"]: mount for mount in container()["volumeMounts"]}
    volumes = {volume["name"]: volume for volume in pod_spec()["volumes"]}
    data = json.loads(image_instruction("VOLUME"))[0]
    assert "persistentVolumeClaim" in volumes[mounts[data]["name"]]
    assert contains(data, env["NEWS_STATE"])
    assert env["NEWS_OUTPUT"].startswith("s3://") or contains(data, env["NEWS_OUTPUT"])
    sources = mounts[env["NEWS_SOURCES"]]
    config_map = volumes[sources["name"]]["configMap"]["name"]
    assert sources["subPath"] in kubernetes("ConfigMap")["data"]
    assert kubernetes("ConfigMap")["metadata"]["name"] == config_map
    claim = volumes[mounts[data]["name"]]["persistentVolumeClaim"]["claimName"]
    assert kubernetes("PersistentVolumeClaim")["metadata"]["name"] == claim


def test_kubernetes_runs_as_the_image_user_with_a_writable_volume() -> None:
    uid, gid = image_user()
    security = pod_spec()["securityContext"]
    assert security["runAsUser"] == uid
    assert security["runAsGroup"] == gid
    assert security["fsGroup"] == gid  # makes the PersistentVolumeClaim writable by the image's user


def test_every_news_variable_of_the_deploy_files_is_a_setting() -> None:
    names = {
        "Dockerfile": {name for name in image_env() if name.startswith("NEWS_")},
        "docker-compose.yml": {
            name
            for service in services().values()
            for name in service.get("environment", {})
            if name.startswith("NEWS_")
        },
        "kubernetes-cronjob.yaml": {
            item["name"] for item in container()["env"] if item["name"].startswith("NEWS_")
        },
        # crontab variables are in every job's environment: an unknown NEWS_* name stops the run
        "crontab.example": set(re.findall(r"\b(NEWS_[A-Z0-9_]*)=", CRONTAB)),
        "crontab-shards.example": set(re.findall(r"\b(NEWS_[A-Z0-9_]*)=", SHARD_CRONTAB)),
        "kubernetes-indexed-cronjob.yaml": {
            item["name"] for item in indexed_container()["env"] if item["name"].startswith("NEWS_")
        },
    }
    for where, found in names.items():
        assert found, where
        assert found - SETTINGS == set(), f"{where}: no such setting"


# --- deploy/entrypoint.sh, run as a user who cannot write --------------------------------------


@pytest.fixture
def sandbox() -> Iterator[dict[str, Any]]:
    """A folder the entrypoint's user can write, one it cannot, and a fake news-ingest that
    prints its arguments. As root the entrypoint runs as nobody (setpriv); otherwise as us."""
    root = Path(tempfile.mkdtemp(prefix="entrypoint-"))
    writable, readonly = root / "rw", root / "ro"
    try:
        root.chmod(0o755)
        (root / "bin").mkdir(mode=0o755)
        for program in ("news-ingest", "scrapy"):
            fake = root / "bin" / program
            fake.write_text('#!/bin/sh\necho "ran $0 $*"\n')
            fake.chmod(0o755)
        writable.mkdir(mode=0o755)
        readonly.mkdir(mode=0o755)
        if os.geteuid() == 0:
            if shutil.which("setpriv") is None:
                pytest.skip("running as root without setpriv to drop privileges")
            os.chown(writable, 65534, 65534)
            prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
            user = "65534:65534"
        else:
            readonly.chmod(0o555)
            prefix = []
            user = f"{os.getuid()}:{os.getgid()}"
        script = root / "entrypoint.sh"
        shutil.copyfile(ENTRYPOINT, script)
        script.chmod(0o755)

        def run(*argv: str, cwd: Path = root, **env: str) -> subprocess.CompletedProcess[str]:
            environment = {"PATH": f"{root / 'bin'}:/usr/bin:/bin", **env}
            return subprocess.run(
                [*prefix, "/usr/bin/env", "-i", *[f"{k}={v}" for k, v in environment.items()], "/bin/sh",
                 str(script), *argv],
                cwd=cwd, capture_output=True, text=True, timeout=30, check=False,
            )  # fmt: skip

        yield {"run": run, "rw": writable, "ro": readonly, "user": user}
    finally:
        if readonly.exists():
            readonly.chmod(0o755)  # a non-root user may not delete what is in a 0555 folder
        shutil.rmtree(root)


def assert_refused(result: subprocess.CompletedProcess[str], folder: Path, setting: str, user: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"news-ingest: cannot start: {folder} ({setting}) is not writable by uid "), (
        lines
    )
    assert f"sudo chown -R {user} {folder}" in lines[0]
    assert "fsGroup" in lines[0] and '--user "$(id -u):$(id -g)"' in lines[0]


@pytest.mark.parametrize(
    "command", [["news-ingest", "crawlall"], ["scrapy", "crawl", "article"], ["news-ingest", "flush"]]
)
def test_entrypoint_refuses_a_crawl_into_a_folder_it_cannot_write(sandbox: dict, command: list[str]) -> None:
    ro, rw = sandbox["ro"], sandbox["rw"]
    state = sandbox["run"](*command, NEWS_STATE=f"{ro}/state/news.sqlite", NEWS_OUTPUT=f"{rw}/output")
    assert_refused(state, ro, "NEWS_STATE", sandbox["user"])
    output = sandbox["run"](*command, NEWS_STATE=f"{rw}/state/news.sqlite", NEWS_OUTPUT=f"{ro}/output")
    assert_refused(output, ro, "NEWS_OUTPUT", sandbox["user"])
    assert list(ro.iterdir()) == []


def test_entrypoint_runs_the_command_unchanged_when_it_can_write(sandbox: dict) -> None:
    rw = sandbox["rw"]
    argv = ["news-ingest", "crawl", "article", "-a", "url=https://example.org/a b", "-s", "LOG_LEVEL=INFO"]
    result = sandbox["run"](*argv, NEWS_STATE=f"{rw}/state/news.sqlite", NEWS_OUTPUT=f"{rw}/output")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.strip().endswith(" ".join(argv[1:]))
    assert result.stdout.startswith("ran ") and "/bin/news-ingest " in result.stdout


def test_entrypoint_leaves_commands_that_write_nothing_alone(sandbox: dict) -> None:
    ro = sandbox["ro"]
    env = {"NEWS_STATE": f"{ro}/state/news.sqlite", "NEWS_OUTPUT": f"{ro}/output"}
    for argv in (
        ["news-ingest", "--version"],
        ["news-ingest", "crawlall", "-h"],
        ["scrapy", "--help"],
        ["true"],
    ):
        result = sandbox["run"](*argv, **env)
        assert result.returncode == 0, (argv, result.stderr)


def test_entrypoint_reads_settings_given_with_s_before_the_environment(sandbox: dict) -> None:
    ro, rw = sandbox["ro"], sandbox["rw"]
    env = {"NEWS_STATE": f"{rw}/state/news.sqlite", "NEWS_OUTPUT": f"{ro}/output"}
    assert sandbox["run"]("news-ingest", "crawlall", "-s", f"NEWS_OUTPUT={rw}/o", **env).returncode == 0
    assert sandbox["run"]("news-ingest", "crawlall", f"--set=NEWS_OUTPUT={rw}/o", **env).returncode == 0
    refused = sandbox["run"]("news-ingest", "crawlall", "-s", f"NEWS_OUTPUT={ro}/o2", NEWS_OUTPUT=f"{rw}/o")
    assert refused.returncode == 2
    state = sandbox["run"](
        "news-ingest", "crawlall", "-s", f"NEWS_STATE={ro}/news.sqlite", NEWS_OUTPUT=f"{rw}/o"
    )
    assert_refused(state, ro, "NEWS_STATE", sandbox["user"])


def test_entrypoint_checks_the_s3_spool_and_relative_paths(sandbox: dict) -> None:
    ro, rw = sandbox["ro"], sandbox["rw"]
    s3 = {"NEWS_OUTPUT": "s3://news/articles"}
    assert sandbox["run"]("news-ingest", "crawlall", NEWS_STATE=f"{rw}/news.sqlite", **s3).returncode == 0
    spool = sandbox["run"](
        "news-ingest", "crawlall", NEWS_STATE=f"{rw}/news.sqlite", NEWS_SINK_SPOOL=f"{ro}/spool", **s3
    )
    assert_refused(spool, ro, "NEWS_SINK_SPOOL", sandbox["user"])
    relative = sandbox["run"](
        "news-ingest", "crawlall", cwd=ro, NEWS_STATE=f"{rw}/news.sqlite", NEWS_OUTPUT="out"
    )
    assert_refused(relative, ro, "NEWS_OUTPUT", sandbox["user"])  # relative: the working directory


def test_the_readme_states_the_ownership_rule_for_data() -> None:
    uid, gid = image_user()
    assert f"mkdir -p data && sudo chown {uid}:{gid} data" in DOCKER_SECTION
    assert '--user "$(id -u):$(id -g)"' in DOCKER_SECTION
    assert "named volume" in DOCKER_SECTION and "fsGroup" in DOCKER_SECTION
    assert "SeaweedFS" in DOCKER_SECTION and "minio" not in DOCKER_SECTION.lower()


# --- kubernetes-indexed-cronjob.yaml: N shard workers ------------------------------------------


def indexed_job() -> dict[str, Any]:
    return next(doc for doc in INDEXED if doc["kind"] == "CronJob")["spec"]["jobTemplate"]["spec"]


def indexed_container() -> dict[str, Any]:
    return indexed_job()["template"]["spec"]["containers"][0]


def test_the_indexed_job_gives_each_pod_one_shard_of_n() -> None:
    job = indexed_job()
    env = {item["name"]: item for item in indexed_container()["env"]}
    assert job["completionMode"] == "Indexed"
    # NEWS_SHARDS must be the number of pods, or some shard is crawled by nobody
    assert int(env["NEWS_SHARDS"]["value"]) == job["completions"] == job["parallelism"]
    assert "NEWS_SHARD" not in env  # the index comes from JOB_COMPLETION_INDEX
    assert env["NEWS_STATE"]["valueFrom"]["secretKeyRef"]["name"]  # the PostgreSQL URL, from a Secret
    assert job["template"]["spec"]["restartPolicy"] == "Never"
    rules = job["podFailurePolicy"]["rules"]
    assert rules[0] == {
        "action": "FailJob",
        "onExitCodes": {"containerName": "crawler", "operator": "In", "values": [2]},
    }
    assert job["backoffLimitPerIndex"] >= 1
    volumes = {v["name"]: v for v in job["template"]["spec"]["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in indexed_container()["volumeMounts"]}
    assert "emptyDir" in volumes[mounts["/data"]]  # a throwaway spool: nothing rides on it
    assert env["NEWS_SINK_SPOOL"]["value"].startswith("/data/")
    security = job["template"]["spec"]["securityContext"]
    assert (security["runAsUser"], security["fsGroup"]) == (image_user()[0], image_user()[1])


def test_job_completion_index_picks_the_shard(tmp_path: Path) -> None:
    from settings.environment import checked_overrides  # noqa: PLC0415

    values, problems = checked_overrides(
        {"NEWS_SHARD": "", "NEWS_SHARDS": 0}, {"JOB_COMPLETION_INDEX": "2", "NEWS_SHARDS": "4"}
    )
    assert problems == [] and values["NEWS_SHARD"] == "2/4"
    values, problems = checked_overrides({"NEWS_SHARD": "", "NEWS_SHARDS": 0}, {"JOB_COMPLETION_INDEX": "2"})
    # an Indexed Job without NEWS_SHARDS: every pod would crawl everything; the run does not start
    assert "NEWS_SHARD" not in values and len(problems) == 1 and "without NEWS_SHARDS" in problems[0]


def test_the_shard_crontab_passes_a_shard_and_uses_a_shared_state() -> None:
    line = next(line for line in SHARD_CRONTAB.splitlines() if line.startswith("*/15"))
    assert 'crawlall --shard "$SHARD/$SHARDS"' in line
    state = re.search(r"NEWS_STATE=(\S+)", line).group(1)
    assert state.startswith("postgresql://") and ":" not in state.split("@")[0].removeprefix("postgresql://")
