"""``python -m kernelscale ...``: the same command line as the ``kernelscale`` script."""

from .cli import app

app()
