"""Where records go: part files that become visible only when complete, the local output
tree with its spool, and uploads to S3."""
