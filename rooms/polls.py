"""Polls: prepared, launched, answered, closed and published. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

MAX_QUESTION = 500
MAX_OPTION = 200
MIN_OPTIONS, MAX_OPTIONS = 2, 10
MAX_TEXT_ANSWER = 1000
MAX_POLLS = 100


class PollKind(StrEnum):
    """What kind of answer a poll takes."""

    YES_NO = "yes_no"
    SINGLE = "single"
    MULTIPLE = "multiple"
    TEXT = "text"


class PollState(StrEnum):
    """A poll's life: prepared, taking answers, no longer taking answers."""

    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


@dataclass(slots=True)
class Answer:
    """One person's answer: option indexes, or a text."""

    voter_name: str
    choices: tuple[int, ...] = ()
    text: str | None = None


@dataclass
class Poll:
    """One poll with its answers, keyed by voter identity (so a changed answer replaces)."""

    id: int
    kind: PollKind
    question: str
    options: list[str]
    anonymous: bool
    created_by: str
    state: PollState = PollState.DRAFT
    published: bool = False
    answers: dict[str, Answer] = field(default_factory=dict)

    def counts(self) -> list[int]:
        """Votes per option."""
        counts = [0] * len(self.options)
        for answer in self.answers.values():
            for choice in answer.choices:
                counts[choice] += 1
        return counts

    def results(self, *, with_names: bool) -> dict[str, Any]:
        """Counts (and text answers); names only for named polls and only when asked."""
        result: dict[str, Any] = {"voters": len(self.answers), "counts": self.counts()}
        if self.kind is PollKind.TEXT:
            result["texts"] = [a.text for a in self.answers.values() if a.text is not None]
        if with_names and not self.anonymous:
            result["named"] = [
                {"name": a.voter_name, "choices": list(a.choices), "text": a.text}
                for a in self.answers.values()
            ]
        return result

    def answer_of(self, identity: str) -> dict[str, Any] | None:
        """One person's current answer, as the protocol shows it back to them."""
        answer = self.answers.get(identity)
        if answer is None:
            return None
        return {"choices": list(answer.choices), "text": answer.text}

    def public(self) -> dict[str, Any]:
        """The poll as participants see it (no results unless published)."""
        data: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind.value,
            "question": self.question,
            "options": list(self.options),
            "anonymous": self.anonymous,
            "state": self.state.value,
            "published": self.published,
        }
        if self.published:
            data["results"] = self.results(with_names=False)
        return data

    def for_staff(self) -> dict[str, Any]:
        """The poll as hosts and presenters see it: live results, names for named polls."""
        return {**self.public(), "results": self.results(with_names=True)}


def options_for(kind: PollKind, options: list[str]) -> list[str]:
    """The options a poll of this kind has (yes/no polls have fixed ones; text polls none)."""
    if kind is PollKind.YES_NO:
        return ["yes", "no"]
    if kind is PollKind.TEXT:
        return []
    return options
