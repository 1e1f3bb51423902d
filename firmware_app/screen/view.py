"""What the screen shows of a flow state: its type and the fields the operator needs, as plain JSON values."""

from __future__ import annotations

import dataclasses
import enum
from datetime import date, datetime, timedelta
from typing import Any, assert_never

import jdatetime

from firmware_app.flow import states as st
from firmware_app.flow import texts
from firmware_app.flow.notices import FaceResult, Notice, Say
from firmware_app.flow.offline import offline_now
from firmware_app.flow.permits import offered_permit
from firmware_app.identity.document import Document
from firmware_app.identity.verdict import FaceVerdict
from hal.printer import PrinterStatus
from protocol.national_code import to_persian_digits

Json = dict[str, Any]


def jalali(moment: datetime) -> str:
    """Jalali date and time in Iran's time, Persian digits: ۱۴۰۵/۰۹/۰۸ ۱۴:۳۰."""
    local = jdatetime.datetime.fromgregorian(datetime=moment.astimezone(texts.IRAN))
    return to_persian_digits(local.strftime("%Y/%m/%d %H:%M"))


def jalali_year(day: date) -> str:
    return to_persian_digits(str(jdatetime.date.fromgregorian(date=day).year))


def notice_view(notice: Notice) -> Json:
    """A typed notice as {key, params, text}: `key` names its kind, `text` is `texts.render`'s Persian."""
    if isinstance(notice, Say):
        return {"key": f"say.{notice.value}", "params": {}, "text": texts.render(notice)}
    params = {field.name: _plain(getattr(notice, field.name)) for field in dataclasses.fields(notice)}
    return {"key": _snake(type(notice).__name__), "params": params, "text": texts.render(notice)}


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def _plain(value: object) -> object:
    match value:
        case None | bool() | int() | float() | str():
            return value
        case enum.Enum():
            return value.value
        case datetime():
            return value.isoformat()
        case timedelta():
            return value.total_seconds()
        case PrinterStatus():
            return value.state.value
        case tuple() | list():
            return [_plain(each) for each in value]
        case _ if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {field.name: _plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
        case _:
            return str(value)


def _person(document: Document) -> Json:
    """The name and birth year from the document, never its national code."""
    name = " ".join(part for part in (document.given_name, document.family_name) if part)
    return {"name": name, "birth_year": jalali_year(document.birth_date) if document.birth_date else None,
            "document": document.kind.value}


def _printer(status: PrinterStatus | None) -> Json | None:
    if status is None:
        return None
    return {"state": status.state.value, "text": texts.printer_status(status)}


def _offline(day: st.PollsDay) -> Json | None:
    """While offline under a permit: what the screen's OFFLINE banner says (slips issued of the permit's limit,
    until when); None on the live check."""
    held = offline_now(day)
    if held is None:
        return None
    return {"issued": to_persian_digits(str(held.ledger.slips_issued)),
            "limit": to_persian_digits(str(held.permit.max_slips)), "until_clock": texts.clock(held.permit.not_after)}


def state_view(state: st.State) -> Json:
    """The state's type and its fields for the page; the polling day's hours for every state that has one."""
    view: Json = {"type": type(state).__name__}
    if not isinstance(state, st.Starting):
        view["day"] = {"opens_at": jalali(state.day.opens_at), "closes_at": jalali(state.day.closes_at),
                       "opens_clock": texts.clock(state.day.opens_at), "closes_clock": texts.clock(state.day.closes_at),
                       "permits_held": len(state.day.permits), "offline": _offline(state.day),
                       "activation_offered": offered_permit(state.day.permits) is not None}
    view.update(_fields(state))
    return view


def _fields(state: st.State) -> Json:
    match state:
        case st.Starting() | st.SelfTesting() | st.PrintingZeroReport() | st.Opening() | st.PollsSuspended():
            return {}
        case st.Closing() | st.PollsClosed() | st.Idle() | st.MinutesSent() | st.MinutesConflict():
            return {}
        case st.EnteringMinutes(first=first, mismatch=mismatch):
            return {"first_entry_held": first is not None, "mismatch": list(mismatch)}
        case st.SendingMinutes(pending=pending):
            return {"pending": pending}
        case st.PollsNotOpen(notice=notice):
            return {"notice": notice_view(notice) if notice is not None else None}
        case st.DocumentRejected(refused=refused):
            return {"notice": notice_view(refused)}
        case st.AwaitingConfirmation(document=document, face=face, distance=distance, face_problem=problem):
            verdict = FaceResult(face, distance, problem)
            reasons = ([{"key": reason.value, "text": text} for reason, text in texts.OVERRIDE_REASONS.items()]
                       if face is FaceVerdict.NO_MATCH else [])
            return {**_person(document), "face": {"verdict": face.value, "text": texts.face(verdict)},
                    "has_photo": bool(document.photo), "override_reasons": reasons}
        case st.CheckingPrinter(document=document) | st.CheckingOffline(document=document):
            return _person(document)
        case st.SnapshotHit(document=document, snapshot_version=version):
            return {**_person(document), "snapshot_version": to_persian_digits(str(version))}
        case st.OfflineRefused(notice=notice):
            return {"notice": notice_view(notice)}
        case st.PrinterNotReady(document=document, status=status):
            return {**_person(document), "printer": _printer(status)}
        case st.Reserving(tx=tx):
            return {"document": tx.document.value}
        case st.NoAnswer(tx=tx, reason=reason):
            return {"document": tx.document.value, "reason": reason.value}
        case st.AnsweredLate(inquiry_code=code):
            return {"inquiry_code": to_persian_digits(code)}
        case st.VoterRefused(outcome=outcome, notice=notice):
            return {"outcome": outcome.value, "notice": notice_view(notice)}
        case st.Printing(tx=tx, inquiry_code=code, reprint=reprint):
            return {"inquiry_code": to_persian_digits(code), "reprint": reprint, "offline_slip": tx.offline}
        case st.Committing(inquiry_code=code):
            return {"inquiry_code": to_persian_digits(code)}
        case st.PrintInterrupted(inquiry_code=code, stage=stage, status=status, reprint=reprint):
            return {"inquiry_code": to_persian_digits(code), "stage": stage.value, "printer": _printer(status),
                    "reprint": reprint}
        case st.RecoveryDecision(inquiry_code=code, question=question, reprint=reprint):
            return {"inquiry_code": to_persian_digits(code), "question": question.value, "reprint": reprint}
        case _:
            assert_never(state)
