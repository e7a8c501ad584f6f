"""Lint rules, one module per family: size (SG1xx), cache (SG2xx), security (SG3xx), Go build (SG4xx)."""
