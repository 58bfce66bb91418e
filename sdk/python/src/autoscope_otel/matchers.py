"""Matchers on span names and attribute text (conformance/README.md, "Matchers")."""

from __future__ import annotations

import re
from dataclasses import dataclass

_LITERAL, _SEGMENT, _REST = 0, 1, 2


class TemplateError(ValueError):
    """A template that does not parse."""


def _valid_placeholder_name(name: str) -> bool:
    return bool(name) and all(c.isalnum() or c in "_-." for c in name)


@dataclass(frozen=True)
class Template:
    """A route template such as ``/orders/{id}``."""

    pieces: tuple[tuple[int, str], ...]
    slash_delimited: bool

    @staticmethod
    def parse(text: str) -> Template:
        if not text:
            raise TemplateError("empty template")
        pieces: list[tuple[int, str]] = []
        literal: list[str] = []
        i = 0
        while i < len(text):
            if text.startswith("{{", i):
                literal.append("{")
                i += 2
            elif text.startswith("}}", i):
                literal.append("}")
                i += 2
            elif text[i] == "}":
                raise TemplateError(
                    f"unmatched '}}' at character {i} (write '}}}}' for a literal brace)"
                )
            elif text[i] == "{":
                close = text.find("}", i + 1)
                if close < 0:
                    raise TemplateError(f"unclosed '{{' at character {i}")
                inner = text[i + 1 : close]
                rest = inner.endswith(":**")
                name = inner[:-3] if rest else inner
                if not _valid_placeholder_name(name):
                    raise TemplateError(
                        f"invalid placeholder name {inner!r} (letters, digits, '_', '-', '.')"
                    )
                if literal:
                    pieces.append((_LITERAL, "".join(literal)))
                    literal = []
                elif pieces and pieces[-1][0] != _LITERAL:
                    raise TemplateError(
                        f"placeholders {pieces[-1][1]!r} and {name!r} are adjacent: "
                        "their boundary is ambiguous"
                    )
                pieces.append((_REST if rest else _SEGMENT, name))
                i = close + 1
            else:
                literal.append(text[i])
                i += 1
        if literal:
            pieces.append((_LITERAL, "".join(literal)))
        slash_delimited = all(
            kind == _LITERAL
            or (
                kind == _SEGMENT
                and (
                    i + 1 == len(pieces)
                    or (pieces[i + 1][0] == _LITERAL and pieces[i + 1][1].startswith("/"))
                )
            )
            or (kind == _REST and i + 1 == len(pieces))
            for i, (kind, _) in enumerate(pieces)
        )
        return Template(tuple(pieces), slash_delimited)

    @property
    def literal_prefix(self) -> str:
        if self.pieces and self.pieces[0][0] == _LITERAL:
            return self.pieces[0][1]
        return ""

    def matcher(self):
        """A fast matching function: a slash-delimited template as a regex (each
        placeholder's extent is forced, so the regex never backtracks), any other by
        positions."""
        if not self.slash_delimited:
            return self._matches_by_positions
        parts = []
        for kind, text in self.pieces:
            parts.append(
                re.escape(text) if kind == _LITERAL else "[^/]+" if kind == _SEGMENT else ".+"
            )
        return re.compile("".join(parts), re.DOTALL).fullmatch

    def matches(self, name: str) -> bool:
        if self.slash_delimited:
            return self._matches_slash_delimited(name)
        return self._matches_by_positions(name)

    def _matches_slash_delimited(self, name: str) -> bool:
        at = 0
        for kind, text in self.pieces:
            if kind == _LITERAL:
                if not name.startswith(text, at):
                    return False
                at += len(text)
            elif kind == _SEGMENT:
                end = name.find("/", at)
                if end < 0:
                    end = len(name)
                if end == at:
                    return False
                at = end
            else:
                return at < len(name)
        return at == len(name)

    def _matches_by_positions(self, name: str) -> bool:
        # The set of offsets reachable after each piece: linear in pieces x name length
        # on every input, where backtracking could be exponential.
        current = {0}
        for kind, text in self.pieces:
            following: set[int] = set()
            for at in current:
                if kind == _LITERAL:
                    if name.startswith(text, at):
                        following.add(at + len(text))
                elif kind == _SEGMENT:
                    end = name.find("/", at)
                    following.update(range(at + 1, (len(name) if end < 0 else end) + 1))
                else:
                    following.update(range(at + 1, len(name) + 1))
            if not following:
                return False
            current = following
        return len(name) in current


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A glob as a regex: '*' any run of characters, '?' exactly one, all else literal."""
    parts = []
    for c in pattern:
        if c == "*":
            if not parts or parts[-1] != ".*":
                parts.append(".*")
        elif c == "?":
            parts.append(".")
        else:
            parts.append(re.escape(c))
    return re.compile("".join(parts), re.DOTALL)
