"""The lab bridge: a ``LabSpokePool`` on each lab chain (``setup.py``) and the relayer process that fills and
settles its deposits (``relayer.py``), started and stopped by ``fillpath lab up`` / ``down``."""
