"""The lab's aggregator: a quote service in the shape of the 0x Swap API v2 over the lab pools, settled on chain by
``LabAllowanceHolder`` + ``LabAggregator`` (``service.py``, ``routing.py``, ``faults.py``; docs/lab.md).
``fillpath lab up`` runs it as its own process: ``python -m fillpath.lab.aggregator --config FILE --port N``."""
