"""`slimgo inspect`: what an image ships, wastes and exposes, and whether it will start.

One streaming pass over each layer (`read.py`) collects entry metadata, content hashes and ELF summaries;
every view (waste, surface, start check, Go view, CI, diff) is computed from that scan, never from disk.
"""
