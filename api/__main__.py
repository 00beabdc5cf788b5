"""`python -m api` is the `idlemarket` command."""

from api.cli import app

app()
