"""A plant simulator for the integration suite: a shift of an MES, played against a running Odoo.

It is a plain Python package (no Odoo imports): it reaches Odoo as a plant
and its planners do, over the signed webhooks and JSON-RPC, and plays the MES
side of the orders Odoo sends out with a small HTTP endpoint of its own.

    from simulator.shift import Settings, play
    summary = play(Settings(url=..., database=..., counts=Counts(orders=5)))
    assert summary.agree, summary.text()

``./setup/simulate`` (``python -m simulator``) is the command line.
"""
