"""Baselines of make bench: the HTTP floor, the SQL baseline, stock Datasette."""
