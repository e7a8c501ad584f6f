"""Debug images: the program compiled for a debugger, Delve in its own shared layer, and editor configs."""
