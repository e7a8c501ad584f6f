"""Many programs in one call: `build ./...` and `resolve` share one session (bases, registries, cache)."""
