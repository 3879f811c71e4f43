"""Prometheus metrics for ``/metrics`` (the standard ``prometheus_client``), on the service's own registry: no
module-level collectors, so two services (or a test and a service) never share counters.

Counters and histograms are updated where things happen; gauges that are a function of the present (reconcile lag,
tracker backlog, venue health) are computed at scrape time by :class:`LiveGauges`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from fillpath.model.events import ClockDivergence, DriftDetected, OrderDriftDetected, Recorded

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Live(Protocol):
    """What the scrape-time gauges read (the service's watcher)."""

    def reconcile_lag_s(self) -> Mapping[str, float]: ...

    def tracker_backlog(self) -> Mapping[str, int]: ...

    def health_scores(self) -> Mapping[str, float]: ...

    def snapshot_age_s(self) -> float | None: ...

    def journal_last_seq(self) -> int: ...

    def is_ready(self) -> bool: ...


class LiveGauges(Collector):
    def __init__(self, live: Callable[[], Live | None]) -> None:
        self._live = live

    def collect(self) -> Iterable[Metric]:
        live = self._live()
        if live is None:
            return
        lag = GaugeMetricFamily(
            "fillpath_reconcile_lag_seconds", "Seconds since the last finished reconciliation pass", labels=["location"]
        )
        for loc, s in sorted(live.reconcile_lag_s().items()):
            lag.add_metric([loc], s)
        yield lag
        backlog = GaugeMetricFamily(
            "fillpath_tracker_backlog", "Transactions the tracker follows that are not final", labels=["location"]
        )
        for loc, n in sorted(live.tracker_backlog().items()):
            backlog.add_metric([loc], n)
        yield backlog
        score = GaugeMetricFamily("fillpath_venue_health_score", "Venue health (100 = clean)", labels=["venue"])
        for venue, s in sorted(live.health_scores().items()):
            score.add_metric([venue], s)
        yield score
        age = live.snapshot_age_s()
        if age is not None:
            yield GaugeMetricFamily("fillpath_snapshot_age_seconds", "Age of the cached venue snapshot", value=age)
        yield GaugeMetricFamily("fillpath_journal_last_seq", "The journal's last seq", value=live.journal_last_seq())
        yield GaugeMetricFamily("fillpath_service_ready", "1 once recovery and the first pass are done",
                                value=1.0 if live.is_ready() else 0.0)  # fmt: skip


class ServiceMetrics:
    def __init__(self, live: Callable[[], Live | None] = lambda: None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.reconcile_seconds = Histogram(
            "fillpath_reconcile_duration_seconds", "One reconciliation pass of one location", ["location"],
            buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.reconcile_passes = Counter(
            "fillpath_reconcile_passes", "Reconciliation passes by outcome", ["location", "outcome"], registry=r
        )
        self.drift_events = Counter(
            "fillpath_drift_events", "Drift, order drift and clock divergence events journaled", ["venue", "kind"],
            registry=r,
        )  # fmt: skip
        self.journal_appends = Counter("fillpath_journal_appends", "Journal entries by kind", ["kind"], registry=r)
        self.venue_latency = Histogram(
            "fillpath_venue_request_seconds", "Round trip of a venue read (balances, server time)",
            ["venue", "request"], buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.stream_updates = Counter(
            "fillpath_stream_updates", "User-stream messages by kind", ["venue", "kind"], registry=r
        )
        self.api_seconds = Histogram(
            "fillpath_api_request_seconds", "HTTP API latency", ["route"], buckets=LATENCY_BUCKETS, registry=r
        )
        r.register(LiveGauges(live))

    def journaled(self, rec: Recorded) -> None:
        e = rec.event
        self.journal_appends.labels(e.kind).inc()
        if isinstance(e, DriftDetected | OrderDriftDetected | ClockDivergence):
            self.drift_events.labels(e.venue, e.kind).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
