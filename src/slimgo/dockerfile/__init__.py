"""Dockerfiles: a parser, a linter with rule families, and a generator that speaks slimgo's strategy vocabulary."""
