"""Allow `python -m latentspace`."""

from latentspace.cli import main

main()
