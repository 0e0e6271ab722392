"""The real S3 server of the tests: SeaweedFS on loopback (demo/seaweed.py, shared with `make s3-demo`)."""

from demo.seaweed import ACCESS_KEY, SECRET_KEY, SeaweedS3, running_s3

__all__ = ["ACCESS_KEY", "SECRET_KEY", "SeaweedS3", "running_s3"]
