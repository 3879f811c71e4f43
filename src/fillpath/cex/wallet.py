"""An exchange account's wallet, as the engine sees it: deposit addresses, deposit history, withdrawals.

Each dialect that can move funds in and out implements it in its own package, as ``capital.Wallet`` (one
venue's capital endpoints today); ``wallet_for`` finds it by the connector's dialect name, so no module here names a
venue. A venue without one cannot be a transfer's end: its routes are not offered to the router.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Protocol

from fillpath.cex.connector import CcxtConnector
from fillpath.model.commands import RequestWithdrawal
from fillpath.model.reports import TransferStatusReport


class ExchangeWallet(Protocol):
    @property
    def location(self) -> str: ...
    async def deposit_address(self, coin: str, network: str) -> str: ...
    async def deposits(self, coin: str, *, tx_id: str | None = None) -> list[TransferStatusReport]: ...
    async def withdraw(self, cmd: RequestWithdrawal) -> str:
        """Request a withdrawal under ``cmd``'s client id; the venue's id for it. ``Ambiguous`` when the request
        may have reached the venue: ask by the client id, never send it again."""
        ...

    async def withdrawals(self, coin: str, *, client_id: str | None = None) -> list[TransferStatusReport]: ...


def wallet_for(connector: CcxtConnector) -> ExchangeWallet | None:
    """The wallet of the connector's venue (``fillpath.cex.<dialect>.capital.Wallet``), or None when its dialect
    has none."""
    module = f"fillpath.cex.{connector.dialect.name}.capital"
    if importlib.util.find_spec(module) is None:
        return None
    wallet: ExchangeWallet = importlib.import_module(module).Wallet(connector)
    return wallet
