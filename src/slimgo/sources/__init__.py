"""Where images come from: OCI layouts and docker-archives (registries and daemons with publishing)."""
