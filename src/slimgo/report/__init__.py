"""Rendering results for people (rich tables) and machines (one JSON document)."""
