"""Pure readers of Go binaries: they never write or run anything."""
