// Upload page: drop footage per room/camera and records files, send them with tus (resumable:
// a dropped connection or a reload resumes where it stopped), show progress, speed and the
// sha256 the server computed; then start the audit. Uses the vendored tus-js-client (window.tus).
"use strict";

(function () {
  const root = document.getElementById("upload-page");
  if (!root || !window.tus) return;
  const cfg = JSON.parse(document.getElementById("upload-data").textContent);
  const T = cfg.text;
  const csrf = document.body.dataset.csrf;
  let active = 0;

  function fmtBytes(n) {
    if (n >= 1 << 30) return (n / (1 << 30)).toFixed(2) + " GB";
    if (n >= 1 << 20) return (n / (1 << 20)).toFixed(1) + " MB";
    if (n >= 1 << 10) return (n / (1 << 10)).toFixed(0) + " KB";
    return n + " B";
  }

  function guessRole(name) {
    const n = name.toLowerCase();
    const table = [["roster", ["roster", "名册", "花名册"]], ["scores", ["score", "成绩"]], ["responses", ["response", "作答", "答题"]],
      ["callbacks", ["callback", "回访"]], ["certificates", ["certificate", "证书"]]];
    for (const [role, keys] of table) if (keys.some(function (k) { return n.indexOf(k) >= 0; })) return role;
    return "";
  }

  function updateStart() {
    const b = document.getElementById("start-audit");
    if (b) b.disabled = active > 0;
  }

  function fetchSha(li, meta) {
    // The server hashed the bytes as they arrived; ask it rather than reading GBs again here.
    fetch(cfg.detail_url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (d) {
      const hits = (d.uploads || []).filter(function (u) {
        return u.filename === meta.filename && u.role === meta.role && (meta.camera ? u.camera === meta.camera : true);
      });
      const u = hits[hits.length - 1];
      const sha = li.querySelector(".sha");
      if (u && sha) { sha.textContent = "sha256 " + u.sha256; li.dataset.sha256 = u.sha256; }
    });
  }

  function send(file, meta, ul) {
    const li = document.createElement("li");
    li.innerHTML = '<div><strong class="fname"></strong> <span class="muted small size"></span></div>' +
      '<progress max="100" value="0"></progress>' +
      '<div class="small"><span class="pct">0%</span> · ' + T.speed + ' <span class="speed">—</span> <span class="state muted">' + T.waiting + "</span></div>" +
      '<div class="sha"></div>';
    li.querySelector(".fname").textContent = file.name;
    li.querySelector(".size").textContent = fmtBytes(file.size);
    li.querySelector("progress").setAttribute("aria-label", file.name);
    ul.appendChild(li);
    const bar = li.querySelector("progress"), pct = li.querySelector(".pct"), speed = li.querySelector(".speed"),
      state = li.querySelector(".state");
    const began = performance.now();
    let last = { t: began, b: 0 };
    const md = { exam_point: cfg.exam_point, role: meta.role, filename: file.name, filetype: file.type || "application/octet-stream" };
    if (meta.room) md.room = meta.room;
    if (meta.camera) md.camera = meta.camera;
    const upload = new tus.Upload(file, {
      endpoint: cfg.tus_endpoint,
      chunkSize: 16 * 1024 * 1024,
      retryDelays: [0, 1000, 3000, 5000, 10000],
      metadata: md,
      headers: { "X-CSRF-Token": csrf },
      removeFingerprintOnSuccess: true,
      onProgress: function (sent, total) {
        const p = total ? (100 * sent / total) : 0;
        bar.value = p;
        pct.textContent = p.toFixed(0) + "%";
        const now = performance.now();
        if (now - last.t > 500) {
          speed.textContent = fmtBytes((sent - last.b) / ((now - last.t) / 1000)) + "/s";
          last = { t: now, b: sent };
        }
        state.textContent = "";
      },
      onSuccess: function () {
        active--; updateStart();
        bar.value = 100; pct.textContent = "100%";
        const secs = Math.max(0.001, (performance.now() - began) / 1000);
        speed.textContent = fmtBytes(file.size / secs) + "/s (" + T.average + ")";
        state.textContent = "✔ " + T.uploaded;
        state.className = "state";
        li.dataset.done = "1";
        fetchSha(li, md);
      },
      onError: function (err) {
        active--; updateStart();
        state.textContent = "✘ " + T.failed + ": " + (err && err.message ? err.message.split("\n")[0] : err);
        state.className = "state err";
        li.dataset.error = "1";
      },
    });
    active++; updateStart();
    upload.findPreviousUploads().then(function (prev) {
      if (prev.length) upload.resumeFromPreviousUpload(prev[0]);
      upload.start();
    });
  }

  function handle(zone, files) {
    const ul = zone.querySelector("ul.files");
    Array.from(files).forEach(function (file) {
      if (zone.dataset.role === "records") {
        const sel = zone.querySelector("select[name=record_role]");
        const role = (sel && sel.value) || guessRole(file.name);
        if (!role) {
          const li = document.createElement("li");
          li.className = "err";
          li.textContent = file.name + ": " + T.pick_role;
          ul.appendChild(li);
          return;
        }
        send(file, { role: role }, ul);
      } else {
        send(file, { role: "footage", room: zone.dataset.room, camera: zone.dataset.camera }, ul);
      }
    });
  }

  root.querySelectorAll(".dropzone").forEach(function (zone) {
    const input = zone.querySelector("input[type=file]");
    input.addEventListener("change", function () { handle(zone, input.files); input.value = ""; });
    zone.addEventListener("dragover", function (ev) { ev.preventDefault(); zone.classList.add("over"); });
    zone.addEventListener("dragleave", function () { zone.classList.remove("over"); });
    zone.addEventListener("drop", function (ev) {
      ev.preventDefault();
      zone.classList.remove("over");
      handle(zone, ev.dataTransfer.files);
    });
  });

  const start = document.getElementById("start-audit");
  if (start) start.addEventListener("click", function () {
    start.disabled = true;
    fetch(cfg.audit_url, { method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf } })
      .then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); })
      .then(function (res) {
        if (!res.ok) { start.disabled = false; alert(res.body.detail || T.failed); return; }
        // The job id goes into the address, so a reload keeps watching the same job.
        window.location.href = cfg.page_url + "&job=" + res.body.job;
      });
  });

  // A YAML file chosen for a new exam point fills the text box (so it can be read before saving).
  window.addEventListener("beforeunload", function (ev) { if (active > 0) { ev.preventDefault(); ev.returnValue = ""; } });
})();

(function () {
  const pick = document.getElementById("yaml-file");
  const text = document.getElementById("yaml-text");
  if (!pick || !text) return;
  pick.addEventListener("change", function () {
    const f = pick.files[0];
    if (!f) return;
    f.text().then(function (s) { text.value = s; });
  });
})();
