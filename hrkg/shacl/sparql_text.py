"""SPARQL text: just enough parsing of a SELECT query (a SHACL-AF target's, a sh:sparql
constraint's) to join a focus-node pattern into it, or to bind ?this to one focus node."""
import re

from ..errors import UnsupportedShapeError

_BOUND = "hrkg_bound_this_"           # placeholder for ?this projected by a subquery
_TOKEN = re.compile(r'''
    (?P<ws>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^'\\]|\\.|'(?!''))*\'\'\'|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$][A-Za-z0-9_\u00B7\u00C0-\uFFFF]+)
  | (?P<word>[A-Za-z_:][\w\-.:%]*)
  | (?P<punct>[{}()])
  | (?P<other>.)
''', re.X | re.S)
_AGGREGATES = {"COUNT", "SUM", "MIN", "MAX", "AVG", "SAMPLE", "GROUP_CONCAT"}


class _Query:
    """A SELECT query split into prologue, projection, WHERE group and solution modifiers, with the
    places where ?this occurs. ``joinable`` says whether running it once with the focus-node
    pattern joined into its WHERE group gives what pyshacl's pre-binding of $this gives: true when
    $this only occurs in the top-level group, in OPTIONAL and in (NOT) EXISTS groups, and nothing
    aggregates or slices the solutions."""

    def __init__(self, text, prefixes, where):
        self.text, self.where = text, where
        self.prefixes = dict(prefixes)
        toks = [(m.lastgroup, m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)
                if m.lastgroup not in ("ws", "comment")]
        self.tokens = toks
        i = 0
        while i < len(toks) and toks[i][1].upper() in ("PREFIX", "BASE"):
            if toks[i][1].upper() == "BASE" or i + 2 >= len(toks):
                raise UnsupportedShapeError(f"{where}: BASE is not supported")
            self.prefixes[toks[i + 1][1].rstrip(":")] = toks[i + 2][1][1:-1]
            i += 3
        if i >= len(toks) or toks[i][1].upper() != "SELECT":
            raise UnsupportedShapeError(f"{where}: only SELECT queries are supported")
        self.select_at = i
        j, depth = i + 1, 0
        while j < len(toks) and not (depth == 0 and (toks[j][1].upper() == "WHERE" or toks[j][1] == "{")):
            depth += {"(": 1, ")": -1}.get(toks[j][1], 0)
            j += 1
        self.projection = toks[i + 1:j]
        if j < len(toks) and toks[j][1].upper() == "WHERE":
            j += 1
        if j >= len(toks) or toks[j][1] != "{":
            raise UnsupportedShapeError(f"{where}: cannot find the WHERE group")
        self.open_at = j
        self.this_contexts, stack, k = [], [], j
        while k < len(toks):
            kind, value = toks[k][0], toks[k][1]
            if value == "{":
                stack.append(self._group_kind(k, bool(stack)))
            elif value == "}":
                stack.pop()
                if not stack:
                    break
            elif kind == "var" and value[1:] == "this":
                self.this_contexts.append(tuple(stack))
            k += 1
        if stack:
            raise UnsupportedShapeError(f"{where}: unbalanced braces")
        self.close_at = k
        self.modifiers = toks[k + 1:]
        words = {t[1].upper() for t in self.projection if t[0] == "word"}
        aggregated = bool(words & _AGGREGATES) or any(
            t[1].upper() in ("GROUP", "HAVING", "LIMIT", "OFFSET") for t in self.modifiers)
        in_scope = all(set(ctx) <= {"top", "optional", "exists"} for ctx in self.this_contexts)
        self.joinable = in_scope and not aggregated

    def _group_kind(self, k, nested):
        if not nested:
            return "top"
        before = self.tokens[k - 1][1].upper() if k else ""
        after = self.tokens[k + 1][1].upper() if k + 1 < len(self.tokens) else ""
        if before == "OPTIONAL":
            return "optional"
        if before == "EXISTS":
            return "exists"
        if after == "SELECT":
            return "subquery"
        return before.lower() if before in ("MINUS", "UNION") else "group"

    def has_keyword(self, keyword):
        return any(t[0] == "word" and t[1].upper() == keyword for t in self.tokens)

    def projects(self, name):
        return self.projects_all() or any(t[0] == "var" and t[1][1:] == name for t in self.projection)

    def projects_all(self):
        return any(t[1] == "*" for t in self.projection)

    def _projection_text(self, drop_this):
        """The projection without DISTINCT/REDUCED (and without a bare ?this)."""
        parts, depth = [], 0
        for kind, value, _, _ in self.projection:
            if depth == 0 and value.upper() in ("DISTINCT", "REDUCED"):
                continue
            if depth == 0 and drop_this and kind == "var" and value[1:] == "this":
                continue
            depth += {"(": 1, ")": -1}.get(value, 0)
            parts.append(value)
        return " ".join(parts)

    def _span(self, a, b):
        """Source text from token a to just before token b."""
        start = self.tokens[a][2] if a < len(self.tokens) else len(self.text)
        end = self.tokens[b][2] if b < len(self.tokens) else len(self.text)
        return self.text[start:end]

    def joined(self, focus_text):
        """The query once for all focus nodes: the focus pattern (binding ?this) joined first into
        the WHERE group, ?this projected, duplicate rows removed as pyshacl removes them."""
        projection = "*" if self.projects_all() else "?this " + self._projection_text(drop_this=True)
        body = self._span(self.open_at + 1, self.close_at)
        tail = self._span(self.close_at + 1, len(self.tokens)) if self.modifiers else ""
        return f"SELECT DISTINCT {projection} WHERE {{\n{focus_text}\n{body}\n}}\n{tail}"

    def bound_to(self, term_text):
        """The query with ?this replaced by a constant everywhere (rdflib's pre-binding), projected
        as (constant AS ?this); a subquery projects it under a placeholder name (_BOUND...)."""
        out, last, depth, in_projection, selects = [], 0, 0, False, 0
        for index, (kind, value, start, end) in enumerate(self.tokens):
            if value.upper() == "SELECT" and kind == "word":
                in_projection, depth, selects = True, 0, selects + 1
            elif in_projection and depth == 0 and (value.upper() == "WHERE" or value == "{"):
                in_projection = False
            elif in_projection:
                depth += {"(": 1, ")": -1}.get(value, 0)
            if kind == "var" and value[1:] == "this":
                out.append(self.text[last:start])
                if in_projection and depth == 0:
                    name = "this" if index > self.select_at and selects == 1 else f"{_BOUND}{index}"
                    out.append(f"({term_text} AS ?{name})")
                else:
                    out.append(term_text)
                last = end
        out.append(self.text[last:])
        text = "".join(out)
        if not any(t[0] == "var" and t[1][1:] == "this" for t in self.projection):
            start = self.tokens[self.select_at][3]
            text = text[:start] + f" ({term_text} AS ?this)" + text[start:] if not self.projects_all() else text
        return text

    def projecting_this(self):
        """The query text with ?this in its projection (pyoxigraph substitutes only projected
        variables)."""
        if self.projects("this"):
            return self.text
        start = self.tokens[self.select_at][3]
        return self.text[:start] + " ?this" + self.text[start:] if not any(
            t[1].upper() in ("DISTINCT", "REDUCED") for t in self.projection[:1]) else \
            self.text[:self.projection[0][3]] + " ?this" + self.text[self.projection[0][3]:]

    def body_text(self):
        """The whole query without its prologue, for use as a subquery."""
        return self._span(self.select_at, len(self.tokens))
