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


# ---- maps ----------------------------------------------------------------------------------------
# Country shapes: Natural Earth 1:110m from the npm package world-atlas (hrkg/web/maps/README.md),
# TopoJSON decoded and projected (Equal Earth) once per process; nothing is fetched at run time.

MAP_FILE = "countries-110m.json"
MAP_WIDTH = 960
# colours readable with every common colour-vision deficiency: blue against orange, and a
# hatching (not a colour) for "no record"; the legend names each
MAP_COLOURS = {"party": "#2166ac", "signatory": "#e69f00", "not-party": "#cfcfcf", "no-record": None,
               "other": "#f4f4f4", "member": "#2166ac", "outside": "#e4e4e4"}
MAP_LABELS = {"party": "party", "signatory": "signatory, not (yet) party", "not-party": "not party",
              "no-record": "no record", "other": "no state in the graph", "member": "member",
              "outside": "not a member"}
_SHAPES = None
_OUTLINE = None


def _equal_earth(lon, lat):
    """Equal Earth projection (Šavrič, Patterson, Jenny 2018) of degrees, in unit-sphere units."""
    import math
    a1, a2, a3, a4 = 1.340264, -0.081106, 0.000893, 0.003796
    lam, phi = math.radians(lon), math.radians(lat)
    theta = math.asin(math.sqrt(3) / 2 * math.sin(phi))
    t2 = theta * theta
    t6 = t2 * t2 * t2
    x = 2 * math.sqrt(3) * lam * math.cos(theta) / (3 * (9 * a4 * t6 * t2 + 7 * a3 * t6 + 3 * a2 * t2 + a1))
    y = theta * (a4 * t6 * t2 + a3 * t6 + a2 * t2 + a1)
    return x, y


def decode_topojson(topology, name="countries"):
    """[(id, name, [polygon = [ring = [(lon, lat)]]])] of the geometries of object ``name``: the
    quantized arcs delta-decoded and transformed, rings joined from their arcs (a negative index
    ~i is arc i reversed; each arc after the first repeats the last point of the one before)."""
    transform = topology.get("transform")
    arcs = []
    for arc in topology["arcs"]:
        points, x, y = [], 0, 0
        for position in arc:
            if transform:
                x, y = x + position[0], y + position[1]
                (sx, sy), (tx, ty) = transform["scale"], transform["translate"]
                points.append((x * sx + tx, y * sy + ty))
            else:
                points.append((position[0], position[1]))
        arcs.append(points)

    def ring(indexes):
        out = []
        for index in indexes:
            points = arcs[index] if index >= 0 else arcs[~index][::-1]
            out.extend(points[1:] if out else points)
        return out

    shapes = []
    for geometry in topology["objects"][name]["geometries"]:
        kind, coordinates = geometry.get("type"), geometry.get("arcs") or []
        polygons = ([coordinates] if kind == "Polygon" else coordinates if kind == "MultiPolygon" else [])
        shapes.append((geometry.get("id"), (geometry.get("properties") or {}).get("name", ""),
                       [[ring(r) for r in polygon] for polygon in polygons]))
    return shapes


def _across_antimeridian(polygon):
    """The rings of a polygon that crosses longitude 180 (Russia's Chukotka, Fiji) with its
    western points moved east of 180 (lon + 360), so no edge spans the whole map; the part past
    the map's edge is cut off by the view box."""
    if not any(abs(a[0] - b[0]) > 180 for ring in polygon for a, b in zip(ring, ring[1:])):
        return polygon
    return [[(lon + 360 if lon < 0 else lon, lat) for lon, lat in ring] for ring in polygon]


def _outline(scale, south=-90):
    """The SVG path of the map's edge (longitudes -180 and 180) from ``south`` to the pole."""
    points = [(180, lat) for lat in range(south, 91, 2)] + [(-180, lat) for lat in range(90, south - 1, -2)]
    xy = [_equal_earth(lon, lat) for lon, lat in points]
    return "M" + " ".join(f"{MAP_WIDTH / 2 + x * scale:.1f},{-y * scale:.1f}" for x, y in xy) + "Z"


def map_shapes():
    """The projected countries, once per process: [{m49, name, d (SVG path), box, main}] where
    ``box`` bounds the whole country and ``main`` its largest polygon (x0, y0, x1, y1), in map
    units (MAP_WIDTH wide). Antarctica is left out."""
    global _SHAPES
    if _SHAPES is None:
        import json
        from importlib import resources
        topology = json.loads((resources.files("hrkg.web") / "maps" / MAP_FILE).read_text("utf-8"))
        scale = MAP_WIDTH / (2 * _equal_earth(180, 0)[0])
        shapes = []
        for m49, name, polygons in decode_topojson(topology):
            if m49 == "010":   # Antarctica: a fifth of the map for no state
                continue
            parts, boxes = [], []
            for polygon in polygons:
                box = [1e9, 1e9, -1e9, -1e9]
                for points in _across_antimeridian(polygon):
                    last, out = None, []
                    for lon, lat in points:
                        x, y = _equal_earth(lon, lat)
                        px, py = round(MAP_WIDTH / 2 + x * scale), round(-y * scale)
                        if (px, py) != last:
                            out.append(f"{px - last[0]},{py - last[1]}" if last else f"M{px},{py}l")
                            last = (px, py)
                            box = [min(box[0], px), min(box[1], py), max(box[2], px), max(box[3], py)]
                    if len(out) >= 3:
                        parts.append(out[0] + " ".join(out[1:]).replace(",-", "-").replace(" -", "-") + "z")
                boxes.append([max(box[0], 0), box[1], min(box[2], MAP_WIDTH), box[3]])
            if not parts:
                continue
            main = max(boxes, key=lambda b: (b[2] - b[0]) * (b[3] - b[1]))
            whole = (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))
            shapes.append({"m49": m49, "name": name, "d": "".join(parts), "box": whole, "main": tuple(main)})
        _SHAPES = shapes
        global _OUTLINE
        _OUTLINE = _outline(scale)
    return _SHAPES


def mapped_m49():
    """The M49 codes that have a shape on the maps."""
    return {s["m49"] for s in map_shapes() if s["m49"]}


def world_map(countries, *, title, desc, href=None, focus=None, width=MAP_WIDTH, legend_order=None):
    """An inline SVG choropleth. ``countries`` = {m49: (category, label)} with category a key of
    MAP_COLOURS and label the words of the country's tooltip (its <title>); shapes of no known
    state are drawn as "other". ``href(m49)`` links a country to its page. ``focus`` = a set of
    M49 codes: the view is cropped to their main polygons. One <path> per country, each with a
    <title>; the legend lists the categories shown."""
    shapes = map_shapes()
    n = next(_ids)
    hatch = f"hatch{n}"
    if focus:
        boxes = [s["main"] for s in shapes if s["m49"] in focus] or [s["box"] for s in shapes]
        x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
        x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
        pad = max(x1 - x0, y1 - y0) * 0.08 + 8
        x0, y0, x1, y1 = x0 - pad, y0 - pad, x1 + pad, y1 + pad
        if (x1 - x0) < 1.4 * (y1 - y0):   # not too tall a picture
            grow = (1.4 * (y1 - y0) - (x1 - x0)) / 2
            x0, x1 = x0 - grow, x1 + grow
    else:
        x0, y0 = min(s["box"][0] for s in shapes), min(s["box"][1] for s in shapes)
        x1, y1 = max(s["box"][2] for s in shapes), max(s["box"][3] for s in shapes)
    view_w, view_h = x1 - x0, y1 - y0
    legend_h = view_h * 0.075
    stroke = max(view_w / width * 0.6, 0.15)
    height = round(width * (view_h + legend_h) / view_w)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{x0:.1f} {y0:.1f} {view_w:.1f} {view_h + legend_h:.1f}" '
           f'width="{width}" height="{height}" role="img" aria-labelledby="map{n}-title map{n}-desc" '
           f'class="chart map" font-family="system-ui,sans-serif" font-size="{view_w / width * 12:.2f}">',
           f'<title id="map{n}-title">{escape(title)}</title>', f'<desc id="map{n}-desc">{escape(desc)}</desc>',
           f'<defs><pattern id="{hatch}" patternUnits="userSpaceOnUse" width="{4 * stroke / 0.6:.2f}" '
           f'height="{4 * stroke / 0.6:.2f}" patternTransform="rotate(45)"><rect width="100%" height="100%" '
           f'fill="#ffffff"/><line x1="0" y1="0" x2="0" y2="{4 * stroke / 0.6:.2f}" stroke="#8a8a8a" '
           f'stroke-width="{1.6 * stroke / 0.6:.2f}"/></pattern></defs>',
           f'<path d="{_OUTLINE}" fill="#eef3f8" stroke="#c9d3de" stroke-width="{stroke:.2f}"/>']

    def fill(category):
        return f"url(#{hatch})" if MAP_COLOURS.get(category) is None else MAP_COLOURS[category]

    shown = set()
    for shape in shapes:
        category, label = countries.get(shape["m49"]) or ("other", f"{shape['name']}: no state in the graph")
        shown.add(category)
        path = (f'<path d="{shape["d"]}" fill="{fill(category)}" stroke="#ffffff" stroke-width="{stroke:.2f}" '
                f'fill-rule="evenodd" class="country {category}" data-m49="{escape(shape["m49"] or "")}">'
                f"<title>{escape(label)}</title></path>")
        link = href(shape["m49"]) if href and shape["m49"] in countries else None
        out.append(f"<a href={quoteattr(link)}>{path}</a>" if link else path)
    # legend: a swatch and its words per category shown, in a band under the map
    unit = view_w / width
    lx, ly = x0 + 10 * unit, y0 + view_h + legend_h * 0.3
    for category in legend_order or MAP_COLOURS:
        if category not in shown:
            continue
        out.append(f'<rect x="{lx:.1f}" y="{ly:.1f}" width="{12 * unit:.1f}" height="{12 * unit:.1f}" '
                   f'fill="{fill(category)}" stroke="#777" stroke-width="{0.5 * unit:.2f}" class="swatch {category}"/>')
        words = MAP_LABELS[category]
        out.append(f'<text x="{lx + 16 * unit:.1f}" y="{ly + 10.5 * unit:.1f}" fill="#333">{escape(words)}</text>')
        lx += (36 + 6.4 * len(words)) * unit
    out.append("</svg>")
    return Markup("".join(out))
