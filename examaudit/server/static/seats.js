// Seat-map editor: drag corners, move, add and delete seats, draw the invigilator zone, assign
// candidates from the roster. The SVG uses the camera's own pixel coordinates (viewBox = frame size),
// so what is saved is exactly what exam_point.yaml holds. Saving goes to the server, which validates.
"use strict";

(function () {
  const root = document.getElementById("seat-editor");
  if (!root) return;
  const data = JSON.parse(document.getElementById("seatmap-data").textContent);
  const T = data.text;
  const editable = data.editable;
  const svg = root.querySelector("svg");
  const layer = svg.querySelector("g.layer");
  const list = document.getElementById("seat-list");
  const status = document.getElementById("editor-status");
  const NS = "http://www.w3.org/2000/svg";
  const W = data.width, H = data.height;
  const handleR = Math.max(4, Math.round(W / 160));

  let seats = data.seats.map(function (s) { return { seat: s.seat, polygon: s.polygon.map(function (p) { return p.slice(); }), candidate_id: s.candidate_id || "" }; });
  let zone = data.invigilator_zone ? data.invigilator_zone.map(function (p) { return p.slice(); }) : null;
  let selected = seats.length ? 0 : -1;
  let drawing = null; // points of a zone being drawn
  let dirty = false;

  function say(msg, kind) {
    status.textContent = msg;
    status.className = "flash " + (kind || "info");
    status.hidden = !msg;
  }

  function toSvg(ev) {
    const pt = svg.createSVGPoint();
    pt.x = ev.clientX; pt.y = ev.clientY;
    const p = pt.matrixTransform(svg.getScreenCTM().inverse());
    return [Math.min(W - 1, Math.max(0, p.x)), Math.min(H - 1, Math.max(0, p.y))];
  }

  function el(name, attrs, parent) {
    const e = document.createElementNS(NS, name);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }

  function centroid(poly) {
    let x = 0, y = 0;
    poly.forEach(function (p) { x += p[0]; y += p[1]; });
    return [x / poly.length, y / poly.length];
  }

  function rosterLabel(cid) {
    const r = data.roster.find(function (c) { return c.candidate_id === cid; });
    return r ? (r.name ? r.name + " · " : "") + r.candidate_id : cid;
  }

  // ---------------------------------------------------------------- drawing
  function draw() {
    while (layer.firstChild) layer.removeChild(layer.firstChild);
    if (zone) {
      el("polygon", { points: zone.map(function (p) { return p.join(","); }).join(" "), class: "zone-poly" }, layer);
      const c = centroid(zone);
      const lbl = el("text", { x: c[0], y: c[1], class: "seat-label", "text-anchor": "middle" }, layer);
      lbl.textContent = T.zone;
      if (editable) zone.forEach(function (p, i) { corner(p, "zone", i); });
    }
    if (drawing) {
      el("polyline", { points: drawing.map(function (p) { return p.join(","); }).join(" "), class: "zone-poly", fill: "none" }, layer);
    }
    seats.forEach(function (s, i) {
      const poly = el("polygon", {
        points: s.polygon.map(function (p) { return p.join(","); }).join(" "),
        class: "seat-poly" + (i === selected ? " selected" : "") + (s.candidate_id ? "" : " unassigned"),
        "data-index": i,
      }, layer);
      const title = el("title", {}, poly);
      title.textContent = T.seat + " " + s.seat + (s.candidate_id ? " · " + rosterLabel(s.candidate_id) : " · " + T.unassigned);
      const c = centroid(s.polygon);
      const lbl = el("text", { x: c[0], y: c[1] + 5, class: "seat-label", "text-anchor": "middle" }, layer);
      lbl.textContent = s.seat;
    });
    if (editable && selected >= 0 && seats[selected]) seats[selected].polygon.forEach(function (p, i) { corner(p, "seat", i); });
    drawList();
  }

  function corner(p, what, i) {
    const c = el("circle", { cx: p[0], cy: p[1], r: handleR, class: "corner", tabindex: 0,
      "data-what": what, "data-corner": i, role: "button",
      "aria-label": (what === "zone" ? T.zone : T.seat + " " + seats[selected].seat) + " " + T.corner + " " + (i + 1) }, layer);
    return c;
  }

  function drawList() {
    list.innerHTML = "";
    seats.forEach(function (s, i) {
      const li = document.createElement("li");
      if (i === selected) li.className = "selected";
      const b = document.createElement("button");
      b.type = "button"; b.className = "linklike"; b.dataset.index = i;
      b.textContent = T.seat + " " + s.seat;
      b.setAttribute("aria-pressed", i === selected ? "true" : "false");
      const who = document.createElement("span");
      who.className = s.candidate_id ? "small" : "small muted";
      who.textContent = s.candidate_id ? rosterLabel(s.candidate_id) : T.unassigned;
      li.appendChild(b); li.appendChild(who);
      list.appendChild(li);
    });
    document.getElementById("seat-count").textContent = String(seats.length);
    const sel = seats[selected];
    const box = document.getElementById("selected-box");
    box.hidden = !sel;
    if (sel) {
      document.getElementById("seat-number").value = sel.seat;
      document.getElementById("seat-candidate").textContent = sel.candidate_id ? rosterLabel(sel.candidate_id) : T.unassigned;
    }
  }

  function select(i) { selected = i; draw(); }
  function touch() { dirty = true; say(""); }

  // ---------------------------------------------------------------- pointer: drag corners and whole seats
  let drag = null;
  svg.addEventListener("pointerdown", function (ev) {
    if (!editable) {
      const poly = ev.target.closest("polygon.seat-poly");
      if (poly) select(+poly.dataset.index);
      return;
    }
    const p = toSvg(ev);
    if (drawing) { drawing.push(p); draw(); return; }
    const t = ev.target;
    if (t.classList.contains("corner")) {
      drag = { kind: "corner", what: t.dataset.what, i: +t.dataset.corner };
    } else if (t.classList.contains("seat-poly")) {
      const i = +t.dataset.index;
      if (i !== selected) select(i);
      drag = { kind: "move", start: p, orig: seats[i].polygon.map(function (q) { return q.slice(); }) };
    } else {
      return;
    }
    svg.setPointerCapture(ev.pointerId);
    ev.preventDefault();
  });
  svg.addEventListener("pointermove", function (ev) {
    if (!drag) return;
    const p = toSvg(ev);
    if (drag.kind === "corner") {
      const poly = drag.what === "zone" ? zone : seats[selected].polygon;
      poly[drag.i] = [Math.round(p[0] * 10) / 10, Math.round(p[1] * 10) / 10];
    } else {
      const dx = p[0] - drag.start[0], dy = p[1] - drag.start[1];
      seats[selected].polygon = drag.orig.map(function (q) {
        return [Math.round(Math.min(W - 1, Math.max(0, q[0] + dx)) * 10) / 10, Math.round(Math.min(H - 1, Math.max(0, q[1] + dy)) * 10) / 10];
      });
    }
    touch();
    draw();
  });
  svg.addEventListener("pointerup", function () { drag = null; });
  svg.addEventListener("dblclick", function (ev) {
    if (!editable || drawing || ev.target.classList.contains("seat-poly")) return;
    addSeat(toSvg(ev));
  });

  // ---------------------------------------------------------------- keyboard: nudge corners, delete, add
  svg.addEventListener("keydown", function (ev) {
    const t = ev.target;
    if (!t.classList || !t.classList.contains("corner")) return;
    const step = ev.shiftKey ? 10 : 1;
    const d = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] }[ev.key];
    if (!d) return;
    const poly = t.dataset.what === "zone" ? zone : seats[selected].polygon;
    const i = +t.dataset.corner;
    poly[i] = [Math.min(W - 1, Math.max(0, poly[i][0] + d[0])), Math.min(H - 1, Math.max(0, poly[i][1] + d[1]))];
    touch();
    draw();
    const again = layer.querySelector('circle[data-what="' + t.dataset.what + '"][data-corner="' + i + '"]');
    if (again) again.focus();
    ev.preventDefault();
  });
  document.addEventListener("keydown", function (ev) {
    if (!editable) return;
    const tag = (ev.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select") return;
    if (drawing && ev.key === "Enter") { finishZone(); ev.preventDefault(); }
    else if (drawing && ev.key === "Escape") { drawing = null; draw(); say(""); }
    else if ((ev.key === "Delete" || ev.key === "Backspace") && selected >= 0) { deleteSeat(); ev.preventDefault(); }
  });

  list.addEventListener("click", function (ev) {
    const b = ev.target.closest("button[data-index]");
    if (b) select(+b.dataset.index);
  });

  // ---------------------------------------------------------------- add, delete, renumber
  function nextNumber() {
    const used = new Set(seats.map(function (s) { return s.seat; }));
    for (let n = 1; n < 1000; n++) {
      const s = n < 10 ? "0" + n : String(n);
      if (!used.has(s)) return s;
    }
    return String(seats.length + 1);
  }

  function typicalSize() {
    if (!seats.length) return [W / 8, H / 5];
    const ws = seats.map(function (s) { const xs = s.polygon.map(function (p) { return p[0]; }); return Math.max.apply(null, xs) - Math.min.apply(null, xs); }).sort(function (a, b) { return a - b; });
    const hs = seats.map(function (s) { const ys = s.polygon.map(function (p) { return p[1]; }); return Math.max.apply(null, ys) - Math.min.apply(null, ys); }).sort(function (a, b) { return a - b; });
    return [ws[ws.length >> 1], hs[hs.length >> 1]];
  }

  function addSeat(at) {
    const sz = typicalSize();
    const c = at || [W / 2, H / 2];
    const x0 = Math.max(0, c[0] - sz[0] / 2), y0 = Math.max(0, c[1] - sz[1] / 2);
    const x1 = Math.min(W - 1, x0 + sz[0]), y1 = Math.min(H - 1, y0 + sz[1]);
    const r = function (v) { return Math.round(v * 10) / 10; };
    seats.push({ seat: nextNumber(), polygon: [[r(x0), r(y0)], [r(x1), r(y0)], [r(x1), r(y1)], [r(x0), r(y1)]], candidate_id: "" });
    touch();
    select(seats.length - 1);
  }

  function deleteSeat() {
    if (selected < 0) return;
    seats.splice(selected, 1);
    selected = Math.min(selected, seats.length - 1);
    touch();
    draw();
  }

  function finishZone() {
    if (drawing && drawing.length >= 3) { zone = drawing; touch(); say(""); }
    else say(T.zone_short, "error");
    drawing = null;
    draw();
  }

  const on = function (id, fn) { const b = document.getElementById(id); if (b) b.addEventListener("click", fn); };
  on("add-seat", function () { addSeat(null); });
  on("delete-seat", deleteSeat);
  on("draw-zone", function () { drawing = []; say(T.zone_help, "info"); draw(); });
  on("clear-zone", function () { zone = null; touch(); draw(); });
  on("clear-candidate", function () { if (seats[selected]) { seats[selected].candidate_id = ""; touch(); draw(); } });
  on("auto-assign", function () {
    // The roster says which seat each candidate sits in: assign by seat number in this room.
    let n = 0;
    seats.forEach(function (s) {
      const hit = data.roster.find(function (c) { return c.room === data.room && String(c.seat) === String(s.seat); });
      if (hit && !s.candidate_id) { s.candidate_id = hit.candidate_id; n++; }
    });
    touch(); draw();
    say(T.auto_done.replace("{n}", n), "ok");
  });
  const number = document.getElementById("seat-number");
  if (number) number.addEventListener("change", function () {
    if (seats[selected]) { seats[selected].seat = number.value.trim(); touch(); draw(); }
  });

  // ---------------------------------------------------------------- roster search
  const search = document.getElementById("roster-search");
  const results = document.getElementById("roster-results");
  function showResults() {
    const q = search.value.trim().toLowerCase();
    results.innerHTML = "";
    const assigned = new Set(seats.map(function (s) { return s.candidate_id; }));
    data.roster.filter(function (c) {
      return !q || [c.candidate_id, c.name, c.id_number, c.seat].some(function (v) { return v && String(v).toLowerCase().indexOf(q) >= 0; });
    }).slice(0, 40).forEach(function (c) {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.cid = c.candidate_id;
      b.textContent = (assigned.has(c.candidate_id) ? "✔ " : "") + c.candidate_id + " " + (c.name || "") + " " + (c.id_number || "") + (c.seat ? " · " + T.seat + " " + c.room + "/" + c.seat : "");
      li.appendChild(b);
      results.appendChild(li);
    });
  }
  if (search) {
    search.addEventListener("input", showResults);
    results.addEventListener("click", function (ev) {
      const b = ev.target.closest("button[data-cid]");
      if (!b || !seats[selected]) return;
      seats.forEach(function (s) { if (s.candidate_id === b.dataset.cid) s.candidate_id = ""; }); // one seat per candidate
      seats[selected].candidate_id = b.dataset.cid;
      touch(); draw(); showResults();
    });
    showResults();
  }

  // ---------------------------------------------------------------- save, then offer the re-run
  const csrf = document.body.dataset.csrf;
  on("save-seats", function () {
    fetch(data.save_url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ seats: seats, invigilator_zone: zone }),
      credentials: "same-origin",
    }).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, body: body }; });
    }).then(function (res) {
      if (!res.ok) { say(res.body.detail || T.error, "error"); return; }
      dirty = false;
      say(T.saved, "ok");
      const offer = document.getElementById("rerun-offer");
      if (offer) offer.hidden = false;
    }).catch(function () { say(T.error, "error"); });
  });
  on("rerun", function () {
    fetch(data.rerun_url, { method: "POST", headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); })
      .then(function (res) {
        if (!res.ok) { say(res.body.detail || T.error, "error"); return; }
        window.location.href = "/upload?exam_point=" + encodeURIComponent(data.exam_point) + "&job=" + res.body.job;
      });
  });
  window.addEventListener("beforeunload", function (ev) { if (dirty) { ev.preventDefault(); ev.returnValue = ""; } });

  draw();
})();
