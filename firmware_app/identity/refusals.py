"""A refused document, made in one way by every reader (the operator's text for it is in `flow.texts`)."""

from __future__ import annotations

from firmware_app.identity.document import DocumentProblem, DocumentRefusal


def refuse(problem: DocumentProblem, detail: str = "") -> DocumentRefusal:
    return DocumentRefusal(problem, detail)
