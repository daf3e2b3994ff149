// examaudit pages: sortable tables, the picture lightbox, and the reviewer's keyboard shortcuts.
// Plain JavaScript, no framework; every page works without it (links and forms), this only speeds it up.
"use strict";

(function () {
  // ------------------------------------------------------------ sortable tables (300 rows sort instantly)
  function cellKey(td, numeric) {
    const raw = td.dataset.sort !== undefined ? td.dataset.sort : td.textContent.trim();
    if (!numeric) return raw;
    const n = parseFloat(raw);
    return isNaN(n) ? Number.POSITIVE_INFINITY : n;
  }

  function sortBy(table, th) {
    const idx = Array.prototype.indexOf.call(th.parentNode.children, th);
    const numeric = th.querySelector("button.sort").dataset.type === "num";
    const dir = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
    th.parentNode.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir);
    const body = table.tBodies[0];
    const rows = Array.from(body.rows);
    const sign = dir === "ascending" ? 1 : -1;
    rows.sort(function (a, b) {
      const x = cellKey(a.cells[idx], numeric), y = cellKey(b.cells[idx], numeric);
      if (numeric) return sign * (x - y);
      return sign * String(x).localeCompare(String(y), document.documentElement.lang);
    });
    const frag = document.createDocumentFragment();
    rows.forEach(function (r) { frag.appendChild(r); });
    body.appendChild(frag);
  }

  document.addEventListener("click", function (ev) {
    const btn = ev.target.closest("table.sortable th button.sort");
    if (btn) sortBy(btn.closest("table"), btn.closest("th"));
  });

  // ------------------------------------------------------------ evidence pictures full size in a dialog
  document.addEventListener("click", function (ev) {
    const a = ev.target.closest("a.lightbox-link");
    if (!a) return;
    const dlg = document.getElementById("lightbox");
    if (!dlg || typeof dlg.showModal !== "function") return; // old browser: the link opens the picture
    ev.preventDefault();
    dlg.querySelector("img").src = a.href;
    dlg.querySelector("img").alt = a.querySelector("img") ? a.querySelector("img").alt : "";
    dlg.showModal();
  });

  // ------------------------------------------------------------ review form: a dismissal needs a comment;
  // the decision goes to the JSON API (POST /api/v1/findings/{id}/review), then the box is redrawn
  function reviewError(form, text) {
    const msg = form.querySelector(".comment-error");
    if (msg) { msg.textContent = text; msg.hidden = false; }
  }

  document.addEventListener("submit", function (ev) {
    const form = ev.target.closest("form.review-form");
    if (!form) return;
    const submitter = ev.submitter;
    const decision = submitter ? submitter.value : "";
    const comment = form.querySelector("textarea[name=comment]");
    if (decision === "dismissed" && comment && !comment.value.trim()) {
      ev.preventDefault();
      reviewError(form, form.querySelector("#comment-help").textContent);
      comment.setAttribute("aria-invalid", "true");
      comment.focus();
      return;
    }
    if (!form.dataset.api || !window.fetch) return; // plain form post as a fallback
    ev.preventDefault();
    form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    const csrf = document.body.dataset.csrf;
    fetch(form.dataset.api, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ decision: decision, comment: comment ? comment.value : "" }),
    }).then(function (r) {
      if (!r.ok) return r.json().then(function (b) { throw new Error(b.detail || r.status); });
      return fetch(form.dataset.panel, { credentials: "same-origin" }).then(function (p) { return p.text(); });
    }).then(function (html) {
      const panel = document.getElementById("review-panel");
      panel.innerHTML = html;
      const badge = document.getElementById("decision-badge");
      const now = panel.querySelector("[data-testid=decision]");
      if (badge && now) badge.innerHTML = now.innerHTML;
      const saved = document.createElement("div");
      saved.className = "flash ok"; saved.setAttribute("role", "status");
      saved.textContent = document.body.dataset.lang === "en" ? "Saved." : "已保存。";
      panel.prepend(saved);
    }).catch(function (err) {
      form.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
      reviewError(form, String(err.message || err));
    });
  });

  // ------------------------------------------------------------ keyboard: J/K next/previous, C/D/U decide
  document.addEventListener("keydown", function (ev) {
    const page = document.querySelector("[data-finding-page]");
    if (!page || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const tag = (ev.target.tagName || "").toLowerCase();
    if (tag === "textarea" || tag === "input" || tag === "select" || ev.target.isContentEditable) {
      if (ev.key === "Escape") ev.target.blur();
      return;
    }
    const go = function (sel) { const a = document.querySelector(sel); if (a && a.href) window.location.href = a.href; };
    const press = function (value) {
      const b = document.querySelector("form.review-form button[value=" + value + "]");
      if (b && !b.disabled) b.click();
    };
    switch (ev.key) {
      case "j": case "J": case "ArrowRight": go("a[rel=next]"); break;
      case "k": case "K": case "ArrowLeft": go("a[rel=prev]"); break;
      case "c": case "C": press("confirmed"); break;
      case "u": case "U": press("unsure"); break;
      case "d": case "D": {
        const comment = document.querySelector("form.review-form textarea[name=comment]");
        if (comment && !comment.value.trim()) { comment.focus(); ev.preventDefault(); } else press("dismissed");
        break;
      }
      default: return;
    }
  });
})();
