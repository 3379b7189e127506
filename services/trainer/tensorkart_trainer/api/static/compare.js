/* Compare tab: two model versions side by side (GET /v1/models/{version}): training data and
   parameters, metrics (bars), closed-loop evaluation per track; the better value marked; promote. */
"use strict";
const LOWER_IS_BETTER = /loss|mae|mse|diff|seconds|interventions/;

function metricBars(keys, a, b, w = 560) {
  const rows = keys.filter((k) => typeof a[k] === "number" || typeof b[k] === "number");
  const h = 22 * rows.length + 24;
  let out = `<svg xmlns="${SVG}" width="${w}" height="${h}" role="img" aria-label="metrics comparison">`;
  rows.forEach((k, i) => {
    const va = a[k], vb = b[k], max = Math.max(Math.abs(va || 0), Math.abs(vb || 0)) || 1, y = 4 + i * 22;
    out += `<text x="0" y="${y + 13}" fill="#9aa3ad" font-size="11">${esc(k)}</text>`;
    [[va, "#539bf5", 0], [vb, "#daaa3f", 9]].forEach(([v, colour, dy]) => {
      if (typeof v !== "number") return;
      const bw = Math.max(1, (Math.abs(v) / max) * (w - 240));
      out += `<rect x="150" y="${y + dy}" width="${bw.toFixed(1)}" height="8" fill="${colour}"><title>${esc(k)} ${v}</title></rect>`;
      out += `<text x="${(154 + bw).toFixed(1)}" y="${y + dy + 8}" fill="#e6e8eb" font-size="9">${v.toPrecision(4)}</text>`;
    });
  });
  return out + `<text x="150" y="${h - 4}" fill="#539bf5" font-size="10">A</text><text x="170" y="${h - 4}" fill="#daaa3f" font-size="10">B</text></svg>`;
}

function compareRow(label, va, vb, key) {
  const num = typeof va === "number" && typeof vb === "number" && va !== vb;
  const lower = LOWER_IS_BETTER.test(key || label);
  const better = num ? ((va < vb) === lower ? "a" : "b") : "";
  const show = (v) => typeof v === "number" ? (Number.isInteger(v) ? v : v.toPrecision(5)) : esc(typeof v === "object" && v !== null ? JSON.stringify(v) : v ?? "–");
  return `<tr><th>${esc(label)}</th><td class="${better === "a" ? "better" : ""}">${show(va)}</td><td class="${better === "b" ? "better" : ""}">${show(vb)}</td></tr>`;
}

function evaluationByTrack(m) {
  const out = {};
  Object.entries(((m.evaluation || {}).tracks) || {}).forEach(([track, t]) => {
    ["autonomy", "interventions", "sim_seconds", "laps_done"].forEach((k) => { if (t[k] !== undefined) out[`${track} ${k}`] = t[k]; });
  });
  return out;
}

async function loadCompare() {
  const data = await (await api("/v1/models")).json();
  const versions = data.models.map((m) => m.version);
  for (const [id, fallback] of [["cmp-a", data.active || versions[1] || versions[0]], ["cmp-b", versions[0]]]) {
    const select = $(id), keep = select.dataset.want || select.value || fallback;
    select.innerHTML = versions.map((v) => `<option ${v === keep ? "selected" : ""}>${esc(v)}</option>`).join("");
    delete select.dataset.want;
  }
  if (!versions.length) { $("compare").innerHTML = `<p class="dim">No models yet.</p>`; return; }
  const [a, b] = await Promise.all([$("cmp-a").value, $("cmp-b").value].map(async (v) => (await api(`/v1/models/${encodeURIComponent(v)}`)).json()));
  const job = (m) => (m.job && m.job.params) || m.job || {};
  const ma = a.metrics || {}, mb = b.metrics || {};
  const metricKeys = [...new Set([...Object.keys(ma), ...Object.keys(mb)])].sort();
  const ea = evaluationByTrack(a), eb = evaluationByTrack(b);
  const evalKeys = [...new Set([...Object.keys(ea), ...Object.keys(eb)])].sort();
  const paramKeys = ["epochs", "batch_size", "learning_rate", "loss", "outputs", "augmentation", "thin_straight", "base_model"];
  const promote = (m) => m.active ? `<span class="badge s-active">active</span>` : `<button data-cmp-promote="${esc(m.version)}">Promote</button>`;
  $("compare").innerHTML = `<table class="cmp"><tr><th></th><th>A: ${esc(a.version)} ${promote(a)}</th><th>B: ${esc(b.version)} ${promote(b)}</th></tr>` +
    compareRow("created", a.created, b.created) + compareRow("outputs", (a.outputs || []).join(" "), (b.outputs || []).join(" ")) +
    compareRow("datasets", (a.datasets || []).map((d) => `${d.name} (${d.frames})`).join(", "), (b.datasets || []).map((d) => `${d.name} (${d.frames})`).join(", ")) +
    paramKeys.map((k) => compareRow(k, job(a)[k], job(b)[k], "param")).join("") +
    `<tr><th colspan="3">metrics</th></tr>` + metricKeys.map((k) => compareRow(k, ma[k], mb[k], k)).join("") +
    `<tr><th colspan="3">closed-loop evaluation</th></tr>` + (evalKeys.length ? evalKeys.map((k) => compareRow(k, ea[k], eb[k], k.includes("autonomy") || k.includes("laps_done") ? "higher" : k)).join("") : `<tr><td colspan="3" class="dim">no evaluation</td></tr>`) +
    `</table><h2 style="margin-top:12px">Metrics</h2>${metricBars(metricKeys, ma, mb)}`;
  document.querySelectorAll("button[data-cmp-promote]").forEach((btn) => btn.addEventListener("click", async () => {
    try { await api(`/v1/models/${btn.dataset.cmpPromote}/promote`, { method: "POST" }); } catch (e) { alert(e.message); }
    loadCompare();
  }));
}

["cmp-a", "cmp-b"].forEach((id) => $(id).addEventListener("change", () => loadCompare().catch((e) => { $("compare").textContent = e.message; })));
onTab("compare", () => loadCompare().catch((e) => { $("compare").textContent = e.message; }));
