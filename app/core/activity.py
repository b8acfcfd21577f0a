"""What a finished call writes to the CRM: a call activity, or a note on the chosen case.

Pure: CallRecord + the agent's notes + the records chosen in the dialog → CallLog. The
outbox (app/core/outbox.py) carries the CallLog to the CRM; nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.core.calls import CallRecord, CallResult, Direction
from app.core.crm import CallActivity, RecordKind, RecordRef
from app.core.duration import format_duration

_RESULT_WORDS = {
    CallResult.ANSWERED: "answered",
    CallResult.MISSED: "missed",
    CallResult.DECLINED: "declined",
    CallResult.FAILED: "failed",
    CallResult.BUSY: "busy",
    CallResult.NO_ANSWER: "not answered",
}


@dataclass(frozen=True)
class CallLog:
    """One finished call, ready for the outbox.

    `case_id` set means "save call info on the case": the details go onto that case
    instead of a separate activity.
    """

    activity: CallActivity
    case_id: str | None = None


def customer_number(record: CallRecord) -> str:
    """The other party's number, whichever way the call went."""
    return record.remote_number


def subject(record: CallRecord) -> str:
    who = record.display_name or record.remote_number or "unknown number"
    if record.direction is Direction.INBOUND:
        if record.result is CallResult.MISSED:
            return f"Missed call from {who}"
        if record.result is CallResult.DECLINED:
            return f"Declined call from {who}"
        text = f"Call from {who}"
    else:
        text = f"Call to {who}"
        if record.result is not CallResult.ANSWERED:
            text += f" ({_RESULT_WORDS[record.result]})"
    if record.queue:
        text += f" via {record.queue}"
    return text


def transfer_note(record: CallRecord) -> str:
    """The line a transferred call's log carries ("" when it was not transferred): CRMs
    without fields of their own for it (Salesforce, Dynamics) get it in the notes."""
    if not record.transferred_to:
        return ""
    when = f" at {record.transferred_at.isoformat(timespec='seconds')}" \
        if record.transferred_at else ""
    return f"Transferred ({record.transfer_kind or 'blind'}) to {record.transferred_to}{when}"


def build_activity(record: CallRecord, *, notes: str = "",
                   regarding: tuple[RecordRef, ...] = (), display_number: str = "",
                   queue_wait_seconds: float | None = None,
                   recording_url: str = "") -> CallActivity:
    """The call activity for `record`.

    `display_number` is the number shown to the other side on an outbound call (or the
    number the caller dialled inbound); it defaults to the call's local number.
    `queue_wait_seconds` is how long the caller waited in the queue before reaching us;
    the phone system often tells us later, so it may be filled in by an update.
    """
    wait = queue_wait_seconds
    if wait is None:
        wait = record.wait_seconds if record.direction is Direction.INBOUND and record.queue \
            else 0.0
    return CallActivity(
        call_id=record.call_id,
        subject=subject(record),
        direction=record.direction.value,
        result=record.result.value,
        started_at=record.arrived_at,
        ended_at=record.ended_at,
        duration_seconds=round(record.talk_seconds),
        caller_number=customer_number(record),
        display_number=display_number or record.local_number,
        queue=record.queue or "",
        queue_wait_seconds=round(wait),
        notes="\n".join(p for p in (notes.strip(), transfer_note(record)) if p),
        regarding=_dedupe(regarding),
        recording_url=recording_url,
        transferred_to=record.transferred_to,
        transfer_kind=record.transfer_kind,
        transferred_at=record.transferred_at.isoformat(timespec="seconds")
        if record.transferred_at else "",
        answered_at=record.answered_at.isoformat(timespec="seconds")
        if record.answered_at else "",
    )


def _dedupe(refs: tuple[RecordRef, ...]) -> tuple[RecordRef, ...]:
    return tuple(dict.fromkeys(refs))


def recording_url(record: CallRecord) -> str:
    """The call's recording as a file: link ("" without one). The file is complete when
    the call ends (the engine closes it first), so the link goes in with the activity."""
    if not record.recording_path:
        return ""
    return Path(record.recording_path).resolve().as_uri()


def call_log(record: CallRecord, *, notes: str = "", regarding: tuple[RecordRef, ...] = (),
             display_number: str = "", save_on_case: bool = False,
             queue_wait_seconds: float | None = None) -> CallLog:
    """Build the CallLog; with `save_on_case` and a case among `regarding`, log on the case."""
    activity = build_activity(record, notes=notes, regarding=regarding,
                              display_number=display_number,
                              queue_wait_seconds=queue_wait_seconds,
                              recording_url=recording_url(record))
    case = next((r for r in activity.regarding if r.kind is RecordKind.CASE), None)
    if save_on_case and case is not None:
        return CallLog(activity, case_id=case.id)
    return CallLog(activity)


def case_note(activity: CallActivity) -> str:
    """The plain-text block written onto a case for "save call info on the case"."""
    lines = [
        activity.subject,
        f"Direction: {activity.direction}",
        f"Result: {activity.result}",
        f"Number: {activity.caller_number}",
        f"Display number: {activity.display_number}" if activity.display_number else "",
        f"Queue: {activity.queue or 'Direct'}",
        f"Queue wait: {format_duration(activity.queue_wait_seconds)}" if activity.queue else "",
        f"Ended: {activity.ended_at.isoformat(timespec='seconds')}",
        f"Duration: {format_duration(activity.duration_seconds)}",
        f"Recording: {activity.recording_url}" if activity.recording_url else "",
        f"Notes: {activity.notes}" if activity.notes else "",
    ]
    return "\n".join(line for line in lines if line)
