"""The image model: immutable values whose digests are computed once, from the bytes that are written."""
