"""Human confirmation for rollback: ask through elicitation where the client can, else a plan-bound token.

The assistant must not be able to confirm a rollback by itself. A client that declares elicitation shows the
plan to the user and returns their answer; only an accepted form with an explicit yes proceeds. For clients
without elicitation, a first call returns the plan and a short-lived, single-use token bound to that exact plan
(`RollbackPlan.fingerprint()`); the assistant is told to show the plan and to call again with the token only
after the user said yes. Unknown, reused, expired and other-plan tokens are refused.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Literal

from pydantic import BaseModel, Field

from engine.errors import ConfirmationRequiredError, PgshiftError
from engine.runner import RollbackPlan

TTL_ENV = "PGSHIFT_MCP_CONFIRMATION_TTL"
DEFAULT_TTL_SECONDS = 300
Decision = Literal["not-asked", "yes", "no", "declined", "cancelled"]


class ConfirmRollback(BaseModel):
    """The form shown to the user (a single checkbox they must tick)."""

    confirm: bool = Field(title="Roll back now?",
                          description="Tick to run exactly the rollback SQL shown above on this database")


@dataclass(frozen=True)
class PlannedRollback:
    """The plan for this call, or the engine error that prevented planning (raised later, in the tool)."""

    plan: RollbackPlan | None
    error: PgshiftError | None = None


def ttl_from_environment(environ: dict[str, str] | None = None) -> float:
    """Seconds a token stays valid; `PGSHIFT_MCP_CONFIRMATION_TTL` overrides (tests set 0 for 'expired')."""
    value = (environ if environ is not None else os.environ).get(TTL_ENV)
    if value is None or not value.strip():
        return DEFAULT_TTL_SECONDS
    try:
        return max(0.0, float(value))
    except ValueError:
        return DEFAULT_TTL_SECONDS


@dataclass
class _Issued:
    fingerprint: str
    expires_at: float


class ConfirmationTokens:
    """Tokens issued by this server process; each is bound to one plan fingerprint and redeemable once."""

    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_seconds = ttl_seconds
        self.clock = clock
        self._issued: dict[str, _Issued] = {}
        self._spent: set[str] = set()
        self._lock = threading.Lock()

    def issue(self, plan: RollbackPlan) -> str:
        token = secrets.token_urlsafe(18)
        with self._lock:
            now = self.clock()
            # Forget expired tokens so the table cannot grow without bound.
            self._issued = {t: i for t, i in self._issued.items() if i.expires_at > now}
            self._issued[token] = _Issued(plan.fingerprint(), now + self.ttl_seconds)
        return token

    def redeem(self, token: str, plan: RollbackPlan) -> None:
        """Spend the token for `plan`, or raise. A token is spent by any attempt, successful or not."""
        with self._lock:
            issued = self._issued.pop(token, None)
            reused = token in self._spent
            self._spent.add(token)
        if issued is None:
            if reused:
                raise ConfirmationRequiredError(
                    "this confirmation token was already used; a token confirms one rollback once",
                    help="call rollback without a token to get the current plan, show it to the user, and use the "
                         "new token only after they explicitly say yes")
            raise ConfirmationRequiredError(
                "unknown confirmation token: it was not issued by this server (or the server restarted)",
                help="call rollback without a token to get the plan and a token; never invent a token")
        if self.clock() >= issued.expires_at:
            raise ConfirmationRequiredError(
                f"the confirmation token expired (tokens are valid for {int(self.ttl_seconds)} s)",
                help="call rollback without a token to get a fresh plan and token, and ask the user again")
        if issued.fingerprint != plan.fingerprint():
            raise ConfirmationRequiredError(
                "the rollback plan changed since the user confirmed it (other migrations, other SQL or another "
                "database), so the confirmation does not cover it",
                help="call rollback without a token to get the new plan, show it to the user, and ask again")


def client_can_elicit(capabilities: Any) -> bool:
    """Form elicitation declared (a bare `elicitation: {}` from 2025-06-18 counts as form)."""
    elicitation = getattr(capabilities, "elicitation", None) if capabilities is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


def decision_of(answer: Any) -> Decision:
    """What the user said, from the injected ElicitationResult (data None means we did not ask)."""
    action = getattr(answer, "action", None)
    if action == "decline":
        return "declined"
    if action == "cancel":
        return "cancelled"
    data = getattr(answer, "data", None)
    if data is None:
        return "not-asked"
    return "yes" if isinstance(data, ConfirmRollback) and data.confirm is True else "no"


def refuse(decision: Decision) -> ConfirmationRequiredError:
    reason = {"declined": "the user declined", "cancelled": "the user cancelled the question",
              "no": "the user did not tick the confirmation"}.get(decision, "not confirmed")
    return ConfirmationRequiredError(f"rollback not run: {reason}; nothing was changed",
                                     help="do not retry unless the user asks for the rollback again")


def require_same_plan(confirmed: RollbackPlan, current: RollbackPlan) -> None:
    if confirmed.fingerprint() != current.fingerprint():
        raise ConfirmationRequiredError(
            "the rollback plan changed while the user was being asked, so their answer does not cover it",
            help="call rollback again to ask the user about the new plan")


def describe_plan(plan: RollbackPlan, root: Path) -> str:
    """The elicitation message: which database, which migrations, and the exact SQL, newest first."""
    return plan.describe()
