"""Base images: slimgo's embedded static base, scratch, and (with publishing) any image reference."""
