/* Curate tab: a dataset's timeline (GET /v1/datasets/{name}/timeline: steering x/y, A, B, RB per frame,
   deleted frames shaded), the frame under the pointer (GET /v1/datasets/{name}/frames/{index}), a
   dragged range deleted or restored (POST .../deletions, .../restorations {start, end}, inclusive;
   a soft delete training honours), and a model's predicted steering over the recorded one
   (GET /v1/datasets/{name}/predictions?model=VERSION). Plain canvas. */
"use strict";
const cur = { timeline: null, predictions: null, range: null, drag: null, hover: -1, frameTimer: null };
const curCanvas = $("cur-plot");
const PAD = { left: 40, right: 10, top: 10, bottom: 58 };

function curX(i) { const n = cur.timeline.frames.index.length; return PAD.left + (n > 1 ? i / (n - 1) : 0.5) * (curCanvas.width - PAD.left - PAD.right); }
function curIndexAt(px) {
  const n = cur.timeline.frames.index.length, span = curCanvas.width - PAD.left - PAD.right;
  return Math.max(0, Math.min(n - 1, Math.round(((px - PAD.left) / span) * (n - 1))));
}

function drawTimeline() {
  const ctx = curCanvas.getContext("2d"), w = curCanvas.width, h = curCanvas.height, f = cur.timeline.frames, n = f.index.length;
  const plotH = h - PAD.top - PAD.bottom, y = (v) => PAD.top + (1 - (v + 1) / 2) * plotH;
  ctx.clearRect(0, 0, w, h);
  ctx.fillStyle = "#1d2026"; ctx.fillRect(PAD.left, PAD.top, w - PAD.left - PAD.right, plotH);
  const step = n > 1 ? (w - PAD.left - PAD.right) / (n - 1) : 1;
  f.deleted.forEach((d, i) => { if (d) { ctx.fillStyle = "rgba(229,83,75,0.25)"; ctx.fillRect(curX(i) - step / 2, PAD.top, Math.max(1, step), plotH + 50); } });
  if (cur.range) { const [a, b] = cur.range; ctx.fillStyle = "rgba(83,155,245,0.25)"; ctx.fillRect(curX(a) - step / 2, PAD.top, curX(b) - curX(a) + step, plotH + 50); }
  ctx.strokeStyle = "#444c56"; ctx.beginPath(); ctx.moveTo(PAD.left, y(0)); ctx.lineTo(w - PAD.right, y(0)); ctx.stroke();
  ctx.fillStyle = "#9aa3ad"; ctx.font = "10px system-ui";
  ctx.fillText("+1", 8, y(1) + 8); ctx.fillText("0", 14, y(0) + 3); ctx.fillText("-1", 10, y(-1));
  const series = (values, colour, width = 1.5) => {
    ctx.strokeStyle = colour; ctx.lineWidth = width; ctx.beginPath();
    values.forEach((v, i) => { if (v == null) return; const px = curX(i), py = y(v); i ? ctx.lineTo(px, py) : ctx.moveTo(px, py); });
    ctx.stroke();
  };
  series(f.y, "rgba(218,170,63,0.7)", 1);
  series(f.x, "#539bf5", 1.5);
  if (cur.predictions) {
    const byIndex = new Map(cur.predictions.index.map((idx, k) => [idx, cur.predictions.predicted_x[k]]));
    series(f.index.map((idx) => byIndex.has(idx) ? byIndex.get(idx) : null), "#4cc38a", 1.5);
  }
  [["a", "#4cc38a"], ["b", "#e5534b"], ["rb", "#c297ff"]].forEach(([key, colour], row) => {
    const top = h - PAD.bottom + 8 + row * 14;
    ctx.fillStyle = "#9aa3ad"; ctx.fillText(key.toUpperCase(), 8, top + 9);
    ctx.fillStyle = colour;
    f[key].forEach((v, i) => { if (v) ctx.fillRect(curX(i) - step / 2, top, Math.max(1, step), 10); });
  });
  if (cur.hover >= 0) { ctx.strokeStyle = "#e6e8eb"; ctx.lineWidth = 1; ctx.beginPath(); ctx.moveTo(curX(cur.hover), PAD.top); ctx.lineTo(curX(cur.hover), h); ctx.stroke(); }
  ctx.fillStyle = "#539bf5"; ctx.fillText("x (steering)", w - 230, h - 4); ctx.fillStyle = "#daaa3f"; ctx.fillText("y", w - 160, h - 4);
  if (cur.predictions) { ctx.fillStyle = "#4cc38a"; ctx.fillText("predicted x", w - 140, h - 4); }
  ctx.fillStyle = "rgba(229,83,75,0.9)"; ctx.fillText("deleted", w - 60, h - 4);
  curCanvas.dataset.drawn = String(n);
}

async function showFrame(i) {
  const f = cur.timeline.frames, index = f.index[i];
  $("cur-frame-info").textContent = `frame ${index} · t ${fmt(f.t[i], 2)} s · x ${fmt(f.x[i], 3)} · y ${fmt(f.y[i], 3)} · A ${f.a[i]} B ${f.b[i]} RB ${f.rb[i]}${f.deleted[i] ? " · deleted" : ""}`;
  clearTimeout(cur.frameTimer);
  cur.frameTimer = setTimeout(async () => {
    try {
      const blob = await (await api(`/v1/datasets/${encodeURIComponent(cur.timeline.name)}/frames/${index}`)).blob();
      const img = $("cur-frame");
      if (img.src) URL.revokeObjectURL(img.src);
      img.src = URL.createObjectURL(blob); img.dataset.index = String(index);
    } catch (e) { $("cur-frame-info").textContent = e.message; }
  }, 60);
}

function showRange() {
  const f = cur.timeline.frames, on = !!cur.range;
  $("cur-delete").disabled = !on; $("cur-restore").disabled = !on;
  $("cur-range").textContent = on ? `frames ${f.index[cur.range[0]]} to ${f.index[cur.range[1]]} selected` : "drag over the plot to select frames";
}

async function loadTimeline() {
  const name = $("cur-dataset").value;
  if (!name) return;
  cur.timeline = await (await api(`/v1/datasets/${encodeURIComponent(name)}/timeline`)).json();
  const t = cur.timeline;
  $("cur-summary").textContent = `${t.count} frames at ${fmt(t.fps, 1)} fps, ${t.deleted_count} deleted (training skips them; restore brings them back)`;
  const model = $("cur-model").value;
  cur.predictions = model ? await (await api(`/v1/datasets/${encodeURIComponent(name)}/predictions?model=${encodeURIComponent(model)}`)).json() : null;
  cur.range = null; showRange(); drawTimeline();
}

async function changeRange(kind) {
  const f = cur.timeline.frames, [a, b] = cur.range;
  try {
    await api(`/v1/datasets/${encodeURIComponent(cur.timeline.name)}/${kind}`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ start: f.index[a], end: f.index[b] }),
    });
    $("cur-message").textContent = `${kind === "deletions" ? "deleted" : "restored"} frames ${f.index[a]}–${f.index[b]}`;
    $("cur-message").className = "dim";
    await loadTimeline();
  } catch (e) { $("cur-message").textContent = e.message; $("cur-message").className = "err"; }
}

function pointer(e) { const r = curCanvas.getBoundingClientRect(); return curIndexAt((e.clientX - r.left) * (curCanvas.width / r.width)); }
curCanvas.addEventListener("mousemove", (e) => {
  if (!cur.timeline) return;
  const i = pointer(e);
  if (cur.drag !== null) cur.range = [Math.min(cur.drag, i), Math.max(cur.drag, i)];
  if (i !== cur.hover) { cur.hover = i; showFrame(i); }
  drawTimeline();
});
curCanvas.addEventListener("mousedown", (e) => { if (cur.timeline) { cur.drag = pointer(e); cur.range = [cur.drag, cur.drag]; drawTimeline(); } });
window.addEventListener("mouseup", () => { if (cur.drag !== null) { cur.drag = null; showRange(); } });
$("cur-delete").addEventListener("click", () => changeRange("deletions"));
$("cur-restore").addEventListener("click", () => changeRange("restorations"));
["cur-dataset", "cur-model"].forEach((id) => $(id).addEventListener("change", () => loadTimeline().catch((e) => { $("cur-summary").textContent = e.message; })));

onTab("curate", async () => {
  try {
    const [datasets, models] = await Promise.all([api("/v1/datasets").then((r) => r.json()), api("/v1/models").then((r) => r.json())]);
    const keep = $("cur-dataset").value;
    $("cur-dataset").innerHTML = datasets.map((d) => `<option ${d.name === keep ? "selected" : ""}>${esc(d.name)}</option>`).join("");
    const keepModel = $("cur-model").value;
    $("cur-model").innerHTML = `<option value="">(none)</option>` + models.models.map((m) => `<option ${m.version === keepModel ? "selected" : ""}>${esc(m.version)}</option>`).join("");
    await loadTimeline();
  } catch (e) { $("cur-summary").textContent = e.message; }
});
