"""How the site is served: the ASGI app factory (serve/app.py) and Datasette's settings (serve/settings.json)."""
