"""``python -m clinicsim``: the same as the ``clinicsim`` command."""

from ._cli import main

main()
