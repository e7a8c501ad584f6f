"""The CLI verbs, one module each, so that a flag added to one verb never touches another.

Each module holds the click definition and a thin function over the library; `edge` holds what every verb
shares at the boundary (terminal output, JSON emission, credentials, typed errors → exit codes).
"""
