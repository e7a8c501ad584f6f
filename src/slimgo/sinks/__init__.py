"""Where images go. Each sink takes a Published value (an image or an index plus its names)."""
