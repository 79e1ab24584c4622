#!/usr/bin/env python3
"""Print where this python looks for packages under PREFIX (Debian: /usr/local/lib/python3.11/
dist-packages for /usr/local), or nothing when no such directory is on its path."""
import sys

p = sys.argv[1].rstrip("/") + "/"
print(next((d for d in sys.path if d.startswith(p) and d.endswith(("dist-packages", "site-packages"))), ""))
