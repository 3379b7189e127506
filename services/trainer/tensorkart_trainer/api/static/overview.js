/* Overview tab: training jobs, models (promote, roll back), datasets. */
"use strict";
function histogramSvg(hist, w = 220, h = 48) {
  const counts = hist.counts || [], max = Math.max(1, ...counts), bw = w / Math.max(1, counts.length);
  let bars = "";
  counts.forEach((c, i) => {
    const bh = Math.round((c / max) * (h - 12));
    const centre = i === Math.floor(counts.length / 2);
    bars += `<rect x="${(i * bw + 1).toFixed(1)}" y="${h - 10 - bh}" width="${(bw - 2).toFixed(1)}" height="${bh}" fill="${centre ? "#daaa3f" : "#539bf5"}"><title>${c}</title></rect>`;
  });
  return `<svg xmlns="${SVG}" width="${w}" height="${h}" role="img" aria-label="steering histogram">${bars}` +
    `<text x="0" y="${h - 1}" fill="#9aa3ad" font-size="9">left</text><text x="${w / 2 - 4}" y="${h - 1}" fill="#9aa3ad" font-size="9">0</text>` +
    `<text x="${w - 22}" y="${h - 1}" fill="#9aa3ad" font-size="9">right</text></svg>`;
}

function lossSvg(history, w = 300, h = 110) {
  const series = [["loss", "#539bf5"], ["val_loss", "#daaa3f"]];
  const values = history.flatMap((e) => series.map(([k]) => e[k]).filter((v) => typeof v === "number" && isFinite(v)));
  if (!values.length) return `<svg xmlns="${SVG}" width="${w}" height="${h}"><text x="8" y="${h / 2}" fill="#9aa3ad" font-size="11">no epoch finished yet</text></svg>`;
  const lo = Math.min(...values), hi = Math.max(...values), span = hi - lo || 1, n = Math.max(2, history.length);
  const x = (i) => 30 + (i / (n - 1)) * (w - 40), y = (v) => 8 + (1 - (v - lo) / span) * (h - 28);
  let out = `<svg xmlns="${SVG}" width="${w}" height="${h}" role="img" aria-label="loss curve">`;
  out += `<line x1="30" y1="${h - 20}" x2="${w - 10}" y2="${h - 20}" stroke="#444c56"/><line x1="30" y1="8" x2="30" y2="${h - 20}" stroke="#444c56"/>`;
  out += `<text x="0" y="12" fill="#9aa3ad" font-size="9">${hi.toPrecision(3)}</text><text x="0" y="${h - 20}" fill="#9aa3ad" font-size="9">${lo.toPrecision(3)}</text>`;
  for (const [key, colour] of series) {
    const pts = history.map((e, i) => [i, e[key]]).filter(([, v]) => typeof v === "number" && isFinite(v));
    if (!pts.length) continue;
    out += `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${pts.map(([i, v]) => x(i).toFixed(1) + "," + y(v).toFixed(1)).join(" ")}"/>`;
    pts.forEach(([i, v]) => { out += `<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="2.5" fill="${colour}"><title>${key} ${v}</title></circle>`; });
  }
  out += `<text x="34" y="${h - 6}" fill="#539bf5" font-size="10">loss</text><text x="70" y="${h - 6}" fill="#daaa3f" font-size="10">val_loss</text>`;
  out += `<text x="${w - 60}" y="${h - 6}" fill="#9aa3ad" font-size="10">epochs: ${history.length}</text></svg>`;
  return out;
}

const sheetUrls = {};
async function contactSheet(name, img) {
  try {
    if (!sheetUrls[name]) {
      const blob = await (await api(`/v1/datasets/${encodeURIComponent(name)}/contact-sheet.png`)).blob();
      sheetUrls[name] = URL.createObjectURL(blob);
    }
    img.src = sheetUrls[name];
  } catch (e) { img.alt = "no contact sheet: " + e.message; }
}

async function loadDatasets() {
  const list = await (await api("/v1/datasets")).json();
  $("ds-count").textContent = list.length + " dataset(s)";
  if (!list.length) { $("datasets").innerHTML = `<p class="dim">No datasets under samples/ yet: record one with <code>tensorkart record</code>.</p>`; return; }
  const rows = list.map((d) => {
    const v = d.validation || {};
    const state = v.valid ? `<span class="badge s-valid">valid</span>` : `<span class="badge s-invalid">${v.bad_rows || 0} bad rows, ${v.bad_images || 0} bad images</span>`;
    return `<tr><td><b>${esc(d.name)}</b></td><td>${d.frames}</td><td>${d.duration_s == null ? "–" : d.duration_s.toFixed(1) + " s"}</td><td>${state}</td>` +
      `<td>${histogramSvg(d.steering_histogram || {})}</td><td style="width:480px"><img class="sheet" data-sheet="${esc(d.name)}" alt="contact sheet of ${esc(d.name)}"></td></tr>`;
  }).join("");
  $("datasets").innerHTML = `<table><tr><th>name</th><th>frames</th><th>duration</th><th>validation</th><th>steering x histogram</th><th>contact sheet</th></tr>${rows}</table>`;
  document.querySelectorAll("img[data-sheet]").forEach((img) => contactSheet(img.dataset.sheet, img));
}

async function loadJobs() {
  const list = await (await api("/v1/jobs?limit=20")).json();
  $("job-count").textContent = list.length + " job(s)";
  if (!list.length) { $("jobs").innerHTML = `<p class="dim">No jobs yet: <code>tensorkart train --dataset NAME</code>.</p>`; return; }
  $("jobs").innerHTML = list.map((j) => {
    const p = j.progress || {}, pct = Math.round((p.fraction || 0) * 100);
    const cancel = (j.state === "running" || j.state === "queued") ? `<button data-cancel="${esc(j.id)}">Cancel</button>` : "";
    const follow = `<button data-follow="${esc(j.id)}">Follow</button>`;
    const eta = j.eta_s != null ? ` · ETA ${Math.round(j.eta_s)} s` : "";
    const model = j.model_version ? ` → <b>${esc(j.model_version)}</b>` : "";
    const err = j.error ? `<div class="err">${esc(j.error)}</div>` : "";
    const log = (j.log || []).slice(-4).map(esc).join("\n");
    const tb = j.tensorboard ? `<div class="dim" title="TensorBoard event logs of this job">TensorBoard: <code>${esc(j.tensorboard.command)}</code></div>` : "";
    return `<div class="job"><div><span class="badge s-${esc(j.state)}">${esc(j.state)}${j.state === "running" && j.phase && j.phase !== "running" ? " · " + esc(j.phase) : ""}</span> <code>${esc(j.id.slice(0, 8))}</code> ${esc((j.datasets || []).join(", "))}${model} ${follow} ${cancel}` +
      `<div class="dim">epoch ${p.epoch || 0}/${p.epochs || "?"} · step ${p.step || 0}/${p.steps || "?"}${eta}</div><div class="bar"><div style="width:${pct}%"></div></div>${err}${tb}<div class="log">${log}</div></div>` +
      `<div>${lossSvg(j.history || [])}</div></div>`;
  }).join("");
  // Log boxes show their newest lines (scrolled to the bottom), like a terminal.
  document.querySelectorAll(".job .log").forEach((box) => { box.scrollTop = box.scrollHeight; });
  document.querySelectorAll("button[data-cancel]").forEach((b) => b.addEventListener("click", async () => {
    try { await api(`/v1/jobs/${b.dataset.cancel}`, { method: "DELETE" }); } catch (e) { alert(e.message); }
    refresh();
  }));
}

async function loadModels() {
  const data = await (await api("/v1/models")).json();
  $("active").textContent = data.active ? "active: " + data.active : "no active model";
  // Roll back is offered only when there is a previously active version to go back to.
  $("rollback").hidden = !(data.history || []).length;
  $("rollback").title = (data.history || []).length ? "re-activate " + data.history[0] : "";
  if (!data.models.length) { $("models").innerHTML = `<p class="dim">No models yet.</p>`; return; }
  const rows = data.models.map((m) => {
    const metrics = m.metrics || {};
    const auto = Object.entries(m.autonomy || {}).map(([t, a]) => `${esc(t)} ${(a * 100).toFixed(1)}%`).join(", ") ||
      `<span class="dim">${esc((m.evaluation || {}).status || "–")}</span>`;
    const active = m.version === data.active;
    const action = active ? `<span class="badge s-active">active</span>` : `<button data-promote="${esc(m.version)}">Promote</button>`;
    return `<tr><td><b>${esc(m.version)}</b><div class="dim">${esc(m.created || "")}</div></td><td>${esc((m.outputs || []).join(" "))}</td>` +
      `<td>${fmt(metrics.val_loss ?? metrics.loss)}</td><td>${fmt(metrics.val_mae ?? metrics.mae, 3)}</td><td>${auto}</td><td>${action}</td></tr>`;
  }).join("");
  $("models").innerHTML = `<table><tr><th>version</th><th>outputs</th><th>val loss</th><th>val MAE</th><th>autonomy</th><th></th></tr>${rows}</table>`;
  document.querySelectorAll("button[data-promote]").forEach((b) => b.addEventListener("click", async () => {
    try { await api(`/v1/models/${b.dataset.promote}/promote`, { method: "POST" }); } catch (e) { alert(e.message); }
    refresh();
  }));
}

$("rollback").addEventListener("click", async () => {
  try { await api("/v1/models/rollback", { method: "POST" }); } catch (e) { alert(e.message); }
  refresh();
});

let datasetsLoaded = false;
async function refresh() {
  try {
    const tasks = [loadJobs(), loadModels()];
    if (!datasetsLoaded) { tasks.push(loadDatasets()); }
    await Promise.all(tasks);
    datasetsLoaded = true;
    $("status").textContent = "updated " + new Date().toLocaleTimeString();
    $("status").className = "dim";
    document.body.dataset.loaded = "yes";
  } catch (e) {
    $("status").textContent = e.message;
    $("status").className = "err";
  }
}
tokenListeners.push(refresh);
refresh();
setInterval(refresh, 2000);
setInterval(() => { datasetsLoaded = false; }, 30000);
