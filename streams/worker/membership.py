"""How a worker belongs to its consumer group: a stable identity, failure detection, and leaving (decision 0606).

With a ``worker_id`` the worker is a *static member* (KIP-345): a restarted worker that joins with the same
``group.instance.id`` replaces its dead predecessor at once, instead of the group waiting for the
predecessor's session to time out (the two-minute outage a restart used to cost). A static member that is
stopped on purpose must still leave: aiokafka 0.14 never sends a LeaveGroup for one (``_maybe_leave_group``),
the Java client's behaviour, made for restarts; a scale-in would then leave its partitions unread for the
whole session timeout. ``leave_group_on_stop`` sends it by member id (LeaveGroup v1, which the broker accepts
for a static member; aiokafka has no v3 to name the instance id).
"""

from __future__ import annotations

import logging
from typing import Any

from aiokafka.consumer.group_coordinator import GroupCoordinator
from aiokafka.errors import KafkaError
from aiokafka.protocol.group import LeaveGroupRequest

from streams.infra.settings import Settings

log = logging.getLogger(__name__)

_aiokafka_maybe_leave_group = GroupCoordinator._maybe_leave_group


def group_instance_id(settings: Settings) -> str | None:
    """The worker id *and* the address other workers reach it at: the broker hands a replacing static member
    its predecessor's assignment as it was, and Faust's assignor refuses one made for another address (an
    ``AssertionError`` that stops the consumer for good). A restart at a new address is a new member."""
    if settings.worker_id is None:
        return None
    return f"{settings.worker_id}@{settings.web_host}:{settings.web_port}"


def membership_options(settings: Settings) -> dict[str, Any]:
    """The Faust app settings for the worker's group membership (``broker_request_timeout`` must exceed the
    session timeout, or Faust refuses to start)."""
    return {
        "consumer_group_instance_id": group_instance_id(settings),
        "broker_session_timeout": settings.worker_session_timeout_s,
        "broker_heartbeat_interval": settings.worker_heartbeat_interval_s,
        "broker_request_timeout": max(90.0, settings.worker_session_timeout_s + 10.0),
    }


async def _leave_even_when_static(self: GroupCoordinator) -> None:
    """Replaces ``GroupCoordinator._maybe_leave_group``: a static member leaves too (by member id)."""
    if self.generation > 0 and self._group_instance_id is not None:
        try:
            await self._send_req(LeaveGroupRequest(self.group_id, self.member_id))
        except KafkaError as err:  # best effort, like aiokafka's own: the session timeout still applies
            log.warning("static member %s could not leave the group: %s", self._group_instance_id, err)
        else:
            log.info("static member %s left the group", self._group_instance_id)
        self.reset_generation()
        return
    await _aiokafka_maybe_leave_group(self)


def leave_group_on_stop() -> None:
    """Make a stopping static member leave its group (class level: every aiokafka group consumer of the
    process; dynamic members already leave)."""
    GroupCoordinator._maybe_leave_group = _leave_even_when_static
