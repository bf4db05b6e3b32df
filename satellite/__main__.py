"""`python -m satellite` runs the command line."""

import sys

from satellite.cli import main

sys.exit(main())
