"""The OCI distribution client: auth, blob and manifest transfer."""
