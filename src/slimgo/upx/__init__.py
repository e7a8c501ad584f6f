"""UPX: found on the user's machine, packed, verified and measured (tool, policy, startup, step)."""
