"""Run the warroom command line: ``python -m warroom``."""

from warroom.cli.main import run

run()
