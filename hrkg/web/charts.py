"""Server-side SVG charts: no JavaScript, no fonts or scripts from elsewhere.

Every chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` that say in words
what it shows, and a ``<title>`` on each mark (the browser shows it as a tooltip).
"""
import datetime as dt
import itertools
from xml.sax.saxutils import escape, quoteattr

from markupsafe import Markup

_ids = itertools.count(1)

COLOURS = {"signature": "#1f5fa8", "consent": "#1f5fa8", "reservation": "#c26a00", "declaration": "#c26a00",
           "withdrawal": "#b3261e", "supported": "#2e7d32", "noted": "#8d8d8d", "unknown": "#e0e0e0",
           "implemented": "#1b5e20", "partially_implemented": "#7cb342", "under_consideration": "#f2b705",
           "line": "#1f5fa8", "grid": "#e3e3e3", "text": "#222"}
CONSENTS = ("ratification", "accession", "succession")


def _open(width, height, title, desc):
    n = next(_ids)
    # no style attribute (the Content-Security-Policy allows no inline style): presentation
    # attributes, and the page's stylesheet scales svg.chart down to the column (max-width: 100%)
    return [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="img" aria-labelledby="chart{n}-title chart{n}-desc" class="chart" '
            f'font-family="system-ui,sans-serif" font-size="12">',
            f'<title id="chart{n}-title">{escape(title)}</title>',
            f'<desc id="chart{n}-desc">{escape(desc)}</desc>']


def _year_fraction(date):
    start = dt.date(date.year, 1, 1)
    days = (dt.date(date.year + 1, 1, 1) - start).days
    return date.year + (date - start).days / days


def _year_ticks(first, last, width_years):
    step = 1 if width_years <= 12 else 2 if width_years <= 24 else 5 if width_years <= 60 else 10
    year = (first + step - 1) // step * step
    while year <= last:
        yield year
        year += step


def timeline(events, *, title, lane_href=None):
    """Swimlane chart of dated actions: ``events`` = [(lane, action, date)], one lane per
    instrument; hollow circle = signature, filled = consent to be bound, diamond = reservation or
    declaration, cross = withdrawal."""
    events = sorted(events, key=lambda e: (e[2], e[0]))
    lanes = list(dict.fromkeys(e[0] for e in events))
    first, last = events[0][2].year, max(e[2] for e in events).year + 1
    left, right, top, lane_h = 92, 16, 28, 20
    width = 900
    height = top + lane_h * len(lanes) + 52
    span = last - first

    def x(date):
        return left + (_year_fraction(date) - first) / span * (width - left - right)

    consents = sum(1 for e in events if e[1] in CONSENTS)
    desc = (f"{len(events)} treaty actions on {len(lanes)} instruments between {events[0][2].isoformat()} and "
            f"{events[-1][2].isoformat()}, {consents} of them consents to be bound (ratification, accession "
            "or succession). Each row is an instrument; hollow circles are signatures, filled circles "
            "consents to be bound, diamonds reservations or declarations, crosses withdrawals.")
    out = _open(width, height, title, desc)
    for year in _year_ticks(first, last, span):
        px = x(dt.date(year, 1, 1))
        out.append(f'<line x1="{px:.1f}" y1="{top - 6}" x2="{px:.1f}" y2="{top + lane_h * len(lanes)}" '
                   f'stroke="{COLOURS["grid"]}"/>')
        out.append(f'<text x="{px:.1f}" y="{top - 10}" text-anchor="middle" fill="#555">{year}</text>')
    for i, lane in enumerate(lanes):
        cy = top + lane_h * i + lane_h / 2
        label = f'<text x="{left - 8}" y="{cy + 4:.1f}" text-anchor="end" fill="{COLOURS["text"]}">{escape(lane)}</text>'
        if lane_href:
            label = f'<a href={quoteattr(lane_href(lane))}>{label}</a>'
        out.append(label)
        lane_events = [e for e in events if e[0] == lane]
        signed = [e[2] for e in lane_events if e[1] == "signature"]
        bound = [e[2] for e in lane_events if e[1] in CONSENTS]
        if signed and bound and min(bound) > min(signed):
            out.append(f'<line x1="{x(min(signed)):.1f}" y1="{cy:.1f}" x2="{x(min(bound)):.1f}" y2="{cy:.1f}" '
                       f'stroke="{COLOURS["line"]}" stroke-width="2" stroke-opacity="0.35"/>')
        for _, action, date in lane_events:
            px = x(date)
            tip = f"<title>{escape(lane)} {escape(action)} {date.isoformat()}</title>"
            if action == "signature":
                out.append(f'<circle cx="{px:.1f}" cy="{cy:.1f}" r="5" fill="#fff" stroke="{COLOURS["signature"]}" '
                           f'stroke-width="2" class="mark signature">{tip}</circle>')
            elif action in CONSENTS:
                out.append(f'<circle cx="{px:.1f}" cy="{cy:.1f}" r="5.5" fill="{COLOURS["consent"]}" '
                           f'class="mark consent">{tip}</circle>')
            elif action == "withdrawal":
                out.append(f'<path d="M{px - 5:.1f},{cy - 5:.1f}L{px + 5:.1f},{cy + 5:.1f}M{px - 5:.1f},{cy + 5:.1f}'
                           f'L{px + 5:.1f},{cy - 5:.1f}" stroke="{COLOURS["withdrawal"]}" stroke-width="2.5" '
                           f'class="mark withdrawal">{tip}</path>')
            else:
                out.append(f'<path d="M{px:.1f},{cy - 4.5:.1f}L{px + 4.5:.1f},{cy:.1f}L{px:.1f},{cy + 4.5:.1f}'
                           f'L{px - 4.5:.1f},{cy:.1f}Z" fill="{COLOURS["reservation"]}" class="mark {escape(action)}">'
                           f'{tip}</path>')
    ly = height - 22
    legend = [("signature", '<circle cx="{x}" cy="{y}" r="5" fill="#fff" stroke="%s" stroke-width="2"/>' % COLOURS["signature"]),
              ("ratification, accession or succession", '<circle cx="{x}" cy="{y}" r="5.5" fill="%s"/>' % COLOURS["consent"]),
              ("reservation or declaration", '<path d="M{x},{y1}L{x2},{y}L{x},{y2}L{x0},{y}Z" fill="%s"/>' % COLOURS["reservation"]),
              ("withdrawal", '<path d="M{x0},{y1}L{x2},{y2}M{x0},{y2}L{x2},{y1}" stroke="%s" stroke-width="2.5"/>' % COLOURS["withdrawal"])]
    lx = left
    for text, mark in legend:
        out.append(mark.format(x=lx, y=ly, x0=lx - 4.5, x2=lx + 4.5, y1=ly - 4.5, y2=ly + 4.5))
        out.append(f'<text x="{lx + 10}" y="{ly + 4}" fill="#444">{escape(text)}</text>')
        lx += 30 + 6.6 * len(text)
    out.append("</svg>")
    return Markup("\n".join(out))


def upr(reviews, *, title):
    """Two bars per UPR cycle: responses to the recommendations (supported, noted, not reported)
    and, where reported, implementation of the supported ones."""
    reviews = [r for r in reviews if r.get("recommendations")]
    if not reviews:
        return None
    left, right, top, bar_h, gap = 70, 270, 16, 18, 16
    width = 900
    has_impl = any(r.get("implemented") is not None for r in reviews)
    group_h = bar_h * (2 if has_impl else 1) + 6 + gap
    height = top + group_h * len(reviews) + 46
    scale = (width - left - right) / max(int(r["recommendations"]) for r in reviews)
    parts = []
    for r in reviews:
        total, supported = int(r["recommendations"]), r.get("supported")
        words = f"cycle {r['cycle']}: {total} recommendations"
        if supported is not None:
            words += f", {int(supported)} supported"
        if r.get("noted") is not None:
            words += f", {int(r['noted'])} noted"
        if r.get("implemented") is not None:
            words += (f"; of the supported, {int(r['implemented'])} implemented, "
                      f"{int(r.get('partially_implemented') or 0)} partially implemented")
        parts.append(words)
    desc = "Universal Periodic Review, " + "; ".join(parts) + "."
    out = _open(width, height, title, desc)

    def segment(x0, y, value, colour, label, tip):
        w = value * scale
        out.append(f'<rect x="{x0:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}" class="seg">'
                   f"<title>{escape(tip)}</title></rect>")
        if w > 26:
            fill = "#fff" if colour not in (COLOURS["unknown"], COLOURS["under_consideration"], COLOURS["partially_implemented"]) else "#222"
            out.append(f'<text x="{x0 + w / 2:.1f}" y="{y + 13}" text-anchor="middle" fill="{fill}">{escape(label)}</text>')
        return x0 + w

    for i, r in enumerate(reviews):
        y = top + i * group_h
        total = int(r["recommendations"])
        supported = int(r["supported"]) if r.get("supported") is not None else None
        noted = int(r["noted"]) if r.get("noted") is not None else None
        out.append(f'<text x="{left - 8}" y="{y + 13}" text-anchor="end" font-weight="bold">Cycle {escape(str(r["cycle"]))}</text>')
        x0 = left
        if supported is not None:
            x0 = segment(x0, y, supported, COLOURS["supported"], str(supported), f"{supported} supported")
        if noted is not None:
            x0 = segment(x0, y, noted, COLOURS["noted"], str(noted), f"{noted} noted")
        rest = total - (supported or 0) - (noted or 0)
        if rest > 0:
            x0 = segment(x0, y, rest, COLOURS["unknown"], str(rest), f"{rest} without a reported response")
        rate = f", {r['support_rate']}% supported" if r.get("support_rate") is not None else ""
        out.append(f'<text x="{x0 + 6:.1f}" y="{y + 13}" fill="#333">{total} recommendations{escape(rate)}</text>')
        if has_impl:
            y2 = y + bar_h + 6
            if r.get("implemented") is not None and supported:
                x1 = left
                done = int(r["implemented"])
                part = int(r.get("partially_implemented") or 0)
                pending = int(r.get("under_consideration") or 0)
                x1 = segment(x1, y2, done, COLOURS["implemented"], str(done), f"{done} implemented")
                x1 = segment(x1, y2, part, COLOURS["partially_implemented"], str(part), f"{part} partially implemented")
                if pending:
                    x1 = segment(x1, y2, pending, COLOURS["under_consideration"], str(pending), f"{pending} under consideration")
                share = round(100 * (done + part) / supported)
                out.append(f'<text x="{x1 + 6:.1f}" y="{y2 + 13}" fill="#333">of {supported} supported: {share}% '
                           "implemented fully or partly</text>")
            else:
                out.append(f'<text x="{left}" y="{y2 + 13}" fill="#777">no implementation figures reported</text>')
    ly = height - 20
    lx = left
    legend = [("supported", "supported"), ("noted", "noted"), ("unknown", "response not reported")]
    if has_impl:
        legend += [("implemented", "implemented"), ("partially_implemented", "partially implemented"),
                   ("under_consideration", "under consideration")]
    for key, text in legend:
        out.append(f'<rect x="{lx}" y="{ly - 9}" width="12" height="12" fill="{COLOURS[key]}"/>')
        out.append(f'<text x="{lx + 16}" y="{ly + 1}" fill="#444">{escape(text)}</text>')
        lx += 32 + 6.4 * len(text)
    out.append("</svg>")
    return Markup("\n".join(out))


def steps(points, *, title, label):
    """Step chart of a count over time: ``points`` = [(date, count after that date)]."""
    points = sorted(points)
    first = points[0][0].year
    last = dt.date.today().year + 1
    top_count = max(c for _, c in points) or 1
    left, right, top, bottom = 48, 24, 16, 40
    width, height = 900, 260
    span = max(last - first, 1)

    def x(date):
        return left + (_year_fraction(date) - first) / span * (width - left - right)

    def y(count):
        return top + (1 - count / top_count) * (height - top - bottom)

    desc = (f"Number of {label}, from {points[0][1]} on {points[0][0].isoformat()} to {points[-1][1]} on "
            f"{points[-1][0].isoformat()} ({len(points)} changes).")
    out = _open(width, height, title, desc)
    ticks = sorted({0, top_count} | set(range(0, top_count + 1, max(1, top_count // 5))))
    for c in ticks:
        out.append(f'<line x1="{left}" y1="{y(c):.1f}" x2="{width - right}" y2="{y(c):.1f}" stroke="{COLOURS["grid"]}"/>')
        out.append(f'<text x="{left - 6}" y="{y(c) + 4:.1f}" text-anchor="end" fill="#555">{c}</text>')
    for year in _year_ticks(first, last, span):
        px = x(dt.date(year, 1, 1))
        out.append(f'<text x="{px:.1f}" y="{height - bottom + 16}" text-anchor="middle" fill="#555">{year}</text>')
    path = [f"M{x(points[0][0]):.1f},{y(0):.1f}"]
    for date, count in points:
        path.append(f"H{x(date):.1f}V{y(count):.1f}")
    path.append(f"H{x(dt.date.today()):.1f}")
    out.append(f'<path d="{"".join(path)}" fill="none" stroke="{COLOURS["line"]}" stroke-width="2.5"/>')
    for date, count in points:
        out.append(f'<circle cx="{x(date):.1f}" cy="{y(count):.1f}" r="3.5" fill="{COLOURS["line"]}" class="mark">'
                   f"<title>{date.isoformat()}: {count} {escape(label)}</title></circle>")
    out.append(f'<text x="{left}" y="{height - 8}" fill="#444">{escape(label)} (vertical axis) by date of '
               "consent to be bound or withdrawal</text>")
    out.append("</svg>")
    return Markup("\n".join(out))
