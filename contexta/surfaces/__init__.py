"""Ways to look at a workspace from outside Python: the HTTP server and its web UI."""
