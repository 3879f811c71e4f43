"""The long-running cold path (``fillpath run``): one aiohttp application that watches every venue, reconciles
continuously, keeps a fresh snapshot, and serves the HTTP API, the dashboard and the metrics (docs/service.md).

Importing this package loads nothing heavy: the CLI reads :mod:`fillpath.service.views` without aiohttp.
"""
