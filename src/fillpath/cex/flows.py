"""Evidence, on one exchange account, of money moving in or out without us: its deposit and withdrawal history.

Reconciliation asks for it when the ledger and the account disagree on an asset: every credited deposit and every
withdrawal not failed since the last time they agreed becomes a flow (``deposit:<id>``, ``withdrawal:<id>``); the
ones that are our own transfers (their chain transaction or the venue's id is in our journal) are left out by the
reconciler. The account's identity is its id in the balances reply (``Dialect.account_id``).

A venue without a wallet (``cex.wallet.wallet_for`` finds none) shows no flows: every difference there is drift.
Withdrawal times are whole seconds on some venues, so withdrawals are looked for from a second before the mark
(the evidence id keeps each booked once); one found before the mark may already be in the balances the ledger agreed
with there, so it is flagged ``near_mark`` and booked only when the difference needs it. A deposit that was pending
when the ledger last agreed with the account and is credited later is not found (its record predates the mark): it
shows as drift.
"""

from __future__ import annotations

from collections.abc import Collection

from fillpath.cex.connector import CcxtConnector
from fillpath.cex.wallet import ExchangeWallet
from fillpath.model.assets import AssetId
from fillpath.model.reports import FlowReport, TransferStatus

WITHDRAW_TIME_SLACK_MS = 1_000


class ExchangeEvidence:
    """``state.reconciler.FlowEvidence`` for one exchange account."""

    def __init__(self, connector: CcxtConnector, wallet: ExchangeWallet | None) -> None:
        self.connector = connector
        self.wallet = wallet
        self.location = connector.location

    async def identity(self) -> str | None:
        return await self.connector.identity()

    def mark(self) -> int | None:
        return self.connector.balances_sent_ms

    async def flows(self, after: int, assets: Collection[AssetId]) -> list[FlowReport]:
        if self.wallet is None:
            return []
        out: list[FlowReport] = []
        for asset in sorted(assets, key=str):
            coin = asset.symbol
            for d in await self.wallet.deposits(coin):
                if d.status is not TransferStatus.CREDITED or d.venue_ts is None or d.venue_ts < after * 1_000_000:
                    continue
                out.append(
                    FlowReport(
                        self.location, asset, d.amount, f"deposit:{d.ref}",
                        f"deposit {d.ref} of {d.amount} {coin} credited ({d.network or '?'} network, tx {d.tx_hash})",
                        " ".join(x for x in (d.ref, d.tx_hash) if x),
                    )
                )  # fmt: skip
            for w in await self.wallet.withdrawals(coin):
                since = (after - WITHDRAW_TIME_SLACK_MS) * 1_000_000
                if w.status is TransferStatus.FAILED or w.venue_ts is None or w.venue_ts < since:
                    continue
                near = w.venue_ts < after * 1_000_000  # before the mark, or after it and stamped down to the second
                out.append(
                    FlowReport(
                        self.location, asset, -w.amount, f"withdrawal:{w.ref}",
                        f"withdrawal {w.ref} of {w.amount} {coin} ({w.network or '?'} network, to {w.address or '?'}, "
                        f"tx {w.tx_hash or 'none yet'})",
                        " ".join(x for x in (w.ref, w.tx_hash, w.client_id) if x), near_mark=near,
                    )
                )  # fmt: skip
        return out
