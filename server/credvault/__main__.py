"""`python -m credvault` is the `credvault` command."""

import sys

from credvault.cli import main

sys.exit(main())
