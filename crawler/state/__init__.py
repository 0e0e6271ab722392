"""What is remembered between runs: the store interface, its SQLite and PostgreSQL stores,
the shards of the sources, and the template lines learned per source."""
