"""S3 (and S3-compatible) uploads of completed parts, through boto3's managed transfer.

Configuration comes only from the standard AWS mechanisms: environment
(``AWS_ACCESS_KEY_ID``, ``AWS_PROFILE``, ``AWS_ENDPOINT_URL`` ...), shared config
and credentials files, instance and container roles. Nothing here reads, stores
or logs a secret. Keys are deterministic (the spool path under the prefix), so a
retried upload overwrites its own object and never makes a second one.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from crawler.output.parts import in_nested_output
from crawler.state.dsn import display

logger = logging.getLogger(__name__)

_CONTENT_TYPE = "application/x-ndjson"


class S3ConfigurationError(ValueError):
    """The S3 output cannot be used: bad URL, missing bucket, wrong credentials."""


class S3UnreachableError(OSError):
    """S3 could not be reached (connection refused, timeouts): an outage, not a configuration error."""


_UNREACHABLE = (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError)


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str  # without leading or trailing slash; may be empty

    @classmethod
    def parse(cls, url: str) -> S3Location:
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise S3ConfigurationError(f"NEWS_OUTPUT={display(url)!r}: expected s3://bucket/prefix")
        if "@" in parts.netloc or ":" in parts.netloc:
            # a bucket name has neither: this is a key and secret, which must not reach the logs
            raise S3ConfigurationError(
                f"NEWS_OUTPUT={display(url)!r}: credentials are not read from the URL; give them as "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or an AWS profile or role)"
            )
        return cls(parts.netloc, parts.path.strip("/"))

    def key(self, relative: str) -> str:
        return f"{self.prefix}/{relative}" if self.prefix else relative

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")


def describe(exc: BaseException, location: S3Location) -> str:
    """One line that names the bucket and the cause, and never a credential."""
    if isinstance(exc, NoCredentialsError):
        return (
            f"no AWS credentials found for {location} (set AWS_PROFILE or AWS_ACCESS_KEY_ID, or use a role)"
        )
    if isinstance(exc, _UNREACHABLE):
        return f"cannot reach the S3 endpoint for {location}: {exc}"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "Unknown")
        hints = {
            "NoSuchBucket": "the bucket does not exist",
            "InvalidAccessKeyId": "the access key is not known to the server (wrong credentials)",
            "SignatureDoesNotMatch": "the secret key does not match the access key (wrong credentials)",
            "AccessDenied": "access denied: the credentials may not write to this bucket",
            "403": "access denied (wrong credentials or no write permission)",
            "404": "the bucket does not exist",
        }
        return f"S3 refused {location}: {code}: {hints.get(code, error.get('Message', ''))}"
    return f"S3 error for {location}: {type(exc).__name__}: {exc}"


class S3Uploader:
    """Uploads files to one bucket and prefix, checks them, and deletes the local copy."""

    def __init__(
        self,
        location: S3Location,
        *,
        multipart_threshold: int = 64 * 1024 * 1024,
        max_attempts: int = 5,
        connect_timeout: float = 5.0,
        read_timeout: float = 60.0,
        server_side_encryption: str = "",
        kms_key_id: str = "",
        storage_class: str = "",
        client: Any = None,
    ):
        self.location = location
        self.client = client or boto3.client(
            "s3",
            config=Config(
                retries={"mode": "standard", "max_attempts": max_attempts},
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
            ),
        )
        self.transfer = TransferConfig(
            multipart_threshold=multipart_threshold, multipart_chunksize=multipart_threshold
        )
        self.extra: dict[str, str] = {}
        if server_side_encryption:
            self.extra["ServerSideEncryption"] = server_side_encryption
        if kms_key_id:
            self.extra["SSEKMSKeyId"] = kms_key_id
        if storage_class:
            self.extra["StorageClass"] = storage_class

    @classmethod
    def from_settings(cls, settings: Any) -> S3Uploader:
        return cls(
            S3Location.parse(settings.get("NEWS_OUTPUT")),
            multipart_threshold=settings.getint("NEWS_S3_MULTIPART_THRESHOLD"),
            max_attempts=settings.getint("NEWS_S3_MAX_ATTEMPTS"),
            server_side_encryption=settings.get("NEWS_S3_SSE"),
            kms_key_id=settings.get("NEWS_S3_SSE_KMS_KEY_ID"),
            storage_class=settings.get("NEWS_S3_STORAGE_CLASS"),
        )

    def preflight(self, run_id: str) -> None:
        """Write and delete a marker object. Raises ``S3ConfigurationError`` with the cause when
        the output is wrong (bucket, credentials, permissions), ``S3UnreachableError`` when S3
        cannot be reached at all (the parts can wait in the spool for it)."""
        key = self.location.key(f"_preflight/{run_id}")
        try:
            self.client.head_bucket(Bucket=self.location.bucket)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code not in ("403", "AccessDenied"):  # a write-only role may not list: let the write tell
                raise S3ConfigurationError(describe(exc, self.location)) from exc
        except _UNREACHABLE as exc:
            raise S3UnreachableError(describe(exc, self.location)) from exc
        except Exception as exc:
            raise S3ConfigurationError(describe(exc, self.location)) from exc
        try:
            self.client.put_object(Bucket=self.location.bucket, Key=key, Body=b"", **self.extra)
            self.client.delete_object(Bucket=self.location.bucket, Key=key)
        except _UNREACHABLE as exc:
            raise S3UnreachableError(describe(exc, self.location)) from exc
        except Exception as exc:
            raise S3ConfigurationError(describe(exc, self.location)) from exc

    def exists(self, relative: str) -> bool:
        """Whether ``<prefix>/<relative>`` is already in the bucket."""
        try:
            self.client.head_object(Bucket=self.location.bucket, Key=self.location.key(relative))
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def upload(self, path: Path, relative: str) -> str:
        """Upload ``path`` as ``<prefix>/<relative>``, check its size, then delete the local file."""
        key = self.location.key(relative)
        extra = dict(self.extra)
        extra["ContentType"] = "application/json" if relative.endswith(".json") else _CONTENT_TYPE
        if relative.endswith(".gz"):
            extra["ContentEncoding"] = "gzip"
        size = path.stat().st_size
        self.client.upload_file(str(path), self.location.bucket, key, ExtraArgs=extra, Config=self.transfer)
        head = self.client.head_object(Bucket=self.location.bucket, Key=key)
        if head["ContentLength"] != size:
            raise OSError(
                f"s3://{self.location.bucket}/{key} has {head['ContentLength']} bytes, the part {size}"
            )
        os.unlink(path)
        return key


def pending_uploads(spool: Path) -> list[Path]:
    """Completed files in the spool (parts and run summaries), oldest first; temporary ones are not."""
    if not spool.exists():
        return []
    # this output's files only: another output nested in it (one-off crawls' oneoff/) has a
    # spool of its own, uploaded by the runs that write it
    files = [
        path
        for path in spool.rglob("*")
        if path.is_file() and not path.name.startswith(".") and not in_nested_output(path.relative_to(spool))
    ]
    return sorted(files, key=lambda path: path.stat().st_mtime_ns)
