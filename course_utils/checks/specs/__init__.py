"""One module per notebook (``<notebook slug>.py``), each defining ``SPECS``: found automatically."""
