"""`slimgo build --builder`: the Go compile runs in a BuildKit daemon (a shared fleet with warm caches);
slimgo sends the build through BuildKit's own client, `buildctl`, and receives the binary."""
