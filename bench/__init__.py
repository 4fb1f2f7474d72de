"""`manage.py bench`: every implementation of `GET users/{id}/orders`, side by side, under wrk.

The modules: `data` prepares the PostgreSQL database (and the database wait L), `servers`
starts and samples each implementation, `load` drives wrk, `report` writes the table, JSON and
chart, and `runner` ties them into scenarios. `peers` holds the FastAPI and Flask reference apps.
"""
