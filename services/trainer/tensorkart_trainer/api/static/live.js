/* Live tab: a play session's frames (MJPEG from GET /v1/live/{session}/stream, read with fetch so the
   bearer token goes in a header), steering drawn over each frame from its X-Live-Meta, and a
   VisualBackProp saliency panel on demand (GET /v1/models/{version}/saliency?session=). */
"use strict";
const live = { session: null, abort: null, frames: 0, times: [], meta: null, saliencyTimer: null };
const liveCanvas = $("live-canvas");
const liveCtx = liveCanvas.getContext("2d");

/** Split a multipart/x-mixed-replace body into parts: {headers, body (Uint8Array)}. */
async function* mjpegParts(reader) {
  let buffer = new Uint8Array(0);
  const decoder = new TextDecoder();
  const find = (bytes, from) => { for (let i = from; i + 3 < bytes.length; i++) if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) return i; return -1; };
  for (;;) {
    const end = find(buffer, 0);
    if (end >= 0) {
      const head = decoder.decode(buffer.subarray(0, end));
      const hdrs = {};
      head.split("\r\n").forEach((line) => { const i = line.indexOf(":"); if (i > 0) hdrs[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim(); });
      const length = parseInt(hdrs["content-length"] || "-1", 10);
      if (length >= 0 && buffer.length >= end + 4 + length) {
        yield { headers: hdrs, body: buffer.slice(end + 4, end + 4 + length) };
        buffer = buffer.slice(end + 4 + length);
        continue;
      }
    }
    const { value, done } = await reader.read();
    if (done) return;
    const joined = new Uint8Array(buffer.length + value.length);
    joined.set(buffer); joined.set(value, buffer.length);
    buffer = joined;
  }
}

function steeringMarker(ctx, x, w, y, colour, label) {
  const px = w / 2 + (w / 2 - 20) * Math.max(-1, Math.min(1, x));
  ctx.fillStyle = colour;
  ctx.fillRect(Math.min(w / 2, px), y, Math.abs(px - w / 2), 8);
  ctx.beginPath(); ctx.moveTo(px, y - 6); ctx.lineTo(px - 7, y - 16); ctx.lineTo(px + 7, y - 16); ctx.fill();
  ctx.font = "bold 13px system-ui"; ctx.fillText(`${label} ${x.toFixed(2)}`, px < w / 2 ? px - 4 - ctx.measureText(label + " -0.00").width : px + 10, y - 6);
}

/** The frame with its steering: model (blue) vs human (orange) bars, override / shadow / stale marks, HUD. */
function drawLive(bitmap, m) {
  if (liveCanvas.width !== bitmap.width || liveCanvas.height !== bitmap.height) { liveCanvas.width = bitmap.width; liveCanvas.height = bitmap.height; }
  const w = bitmap.width, h = bitmap.height, ctx = liveCtx;
  ctx.drawImage(bitmap, 0, 0);
  // a direction line from the bottom centre, as a steering wheel would point
  const line = (x, colour) => { ctx.strokeStyle = colour; ctx.lineWidth = 4; ctx.beginPath(); ctx.moveTo(w / 2, h - 40); ctx.lineTo(w / 2 + x * w * 0.3, h - 40 - h * 0.25); ctx.stroke(); };
  ctx.fillStyle = "rgba(0,0,0,0.55)"; ctx.fillRect(0, h - 44, w, 44);
  ctx.fillStyle = "#9aa3ad"; ctx.fillRect(w / 2 - 1, h - 40, 2, 36);
  if (m.human_x != null) { line(m.human_x, "#f0883e"); steeringMarker(ctx, m.human_x, w, h - 12, "#f0883e", "human"); }
  if (m.model_x != null) { line(m.model_x, "#539bf5"); steeringMarker(ctx, m.model_x, w, h - 26, "#539bf5", "model"); }
  const hud = [
    `model ${m.model_version || "–"}`,
    `latency ${m.latency_ms == null ? "–" : m.latency_ms.toFixed(1) + " ms"} · view ${m.fps.toFixed(1)} fps`,
  ];
  if (m.sim) hud.push(`lap ${m.sim.laps + 1} · interventions ${m.sim.interventions} · autonomy ${(m.sim.autonomy * 100).toFixed(1)}%`);
  if (m.agreement && m.agreement.frames) hud.push(`agreement: |dx| ${m.agreement.mean_abs_dx.toFixed(3)}, ${(m.agreement.within_0_1 * 100).toFixed(0)}% within 0.1`);
  ctx.fillStyle = "rgba(0,0,0,0.55)"; ctx.fillRect(0, 0, 430, 8 + hud.length * 17);
  ctx.fillStyle = "#e6e8eb"; ctx.font = "13px ui-monospace, monospace";
  hud.forEach((t, i) => ctx.fillText(t, 6, 17 + i * 17));
  const badge = (text, colour) => { ctx.font = "bold 15px system-ui"; const tw = ctx.measureText(text).width; ctx.fillStyle = colour; ctx.fillRect(w - tw - 18, 6, tw + 12, 22); ctx.fillStyle = "#000"; ctx.fillText(text, w - tw - 12, 23); };
  if (m.override) { ctx.strokeStyle = "#e5534b"; ctx.lineWidth = 8; ctx.strokeRect(4, 4, w - 8, h - 8); badge("OVERRIDE: human drives", "#e5534b"); }
  else if (m.shadow) badge("SHADOW: model only predicts", "#daaa3f");
  if (m.stale) {
    ctx.fillStyle = "rgba(128,128,128,0.35)"; ctx.fillRect(0, 0, w, h);
    ctx.font = "bold 28px system-ui"; ctx.fillStyle = "#daaa3f"; ctx.fillText(m.model_x == null ? "STALE: no answer" : "STALE", w / 2 - 60, h / 2);
  }
  if (m.ended) { ctx.font = "bold 28px system-ui"; ctx.fillStyle = "#e6e8eb"; ctx.fillText("session ended", w / 2 - 90, h / 2 + 36); }
}

function showLiveFigures(m) {
  const now = performance.now();
  live.times.push(now);
  while (live.times.length && now - live.times[0] > 3000) live.times.shift();
  const fps = live.times.length > 1 ? (live.times.length - 1) / ((now - live.times[0]) / 1000) : 0;
  $("live-fps").textContent = fps.toFixed(1);
  liveCanvas.dataset.frames = String(live.frames);
  liveCanvas.dataset.seq = String(m.seq);
  liveCanvas.dataset.fps = fps.toFixed(2);
  $("live-info").innerHTML = [
    ["model", esc(m.model_version || "–")], ["driving", m.override ? "human (override)" : m.shadow ? "human (shadow)" : "model"],
    ["loop latency", m.latency_ms == null ? "–" : m.latency_ms.toFixed(2) + " ms"],
    ["autonomy", m.sim ? (m.sim.autonomy * 100).toFixed(1) + "% (" + m.sim.interventions + " interventions, " + m.sim.sim_seconds.toFixed(0) + " s)" : "–"],
    ["agreement", m.agreement && m.agreement.frames ? `${m.agreement.frames} frames, mean |dx| ${m.agreement.mean_abs_dx}` : "–"],
    ["frame", `#${m.seq}${m.stale ? " (stale)" : ""} · published ${m.published}, dropped ${m.dropped}`],
  ].map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join("");
}

async function followSession(session) {
  if (live.abort) live.abort.abort();
  live.session = session; live.frames = 0; live.times = [];
  if (!session) return;
  const controller = new AbortController();
  live.abort = controller;
  try {
    const response = await api(`/v1/live/${encodeURIComponent(session)}/stream`, { signal: controller.signal });
    for await (const part of mjpegParts(response.body.getReader())) {
      const meta = JSON.parse(part.headers["x-live-meta"] || "{}");
      const bitmap = await createImageBitmap(new Blob([part.body], { type: "image/jpeg" }));
      live.frames += 1; live.meta = meta;
      drawLive(bitmap, meta);
      showLiveFigures(meta);
    }
  } catch (e) {
    if (e.name !== "AbortError") $("live-status").textContent = e.message;
  }
  if (live.abort === controller) { live.abort = null; setTimeout(() => live.session === session && !live.abort && followSession(session), 1000); }
}

async function refreshSessions() {
  try {
    const { sessions } = await (await api("/v1/live")).json();
    const select = $("live-session");
    const names = sessions.map((s) => s.session);
    select.innerHTML = names.length ? names.map((n) => `<option>${esc(n)}</option>`).join("") : `<option value="">no play session is running</option>`;
    $("live-status").textContent = names.length ? "" : "Start one: tensorkart play --source sim (frames appear here while it drives).";
    if (live.session && names.includes(live.session)) select.value = live.session;
    else if (names.length && !live.abort) followSession(names[0]);
  } catch (e) { $("live-status").textContent = e.message; }
}

async function refreshSaliency() {
  if (!$("live-saliency").checked || !live.meta || !live.meta.model_version) return;
  try {
    const url = `/v1/models/${encodeURIComponent(live.meta.model_version)}/saliency?session=${encodeURIComponent(live.session)}`;
    const blob = await (await api(url)).blob();
    const img = $("saliency-img");
    if (img.src) URL.revokeObjectURL(img.src);
    img.src = URL.createObjectURL(blob);
    img.dataset.loaded = "yes";
    $("saliency-caption").textContent = `VisualBackProp of ${live.meta.model_version}, frame #${live.meta.seq}: red = pixels that drive the steering`;
  } catch (e) { $("saliency-caption").textContent = e.message; }
  if ($("live-saliency").checked) live.saliencyTimer = setTimeout(refreshSaliency, 1500);
}

$("live-session").addEventListener("change", (e) => followSession(e.target.value));
$("live-saliency").addEventListener("change", (e) => {
  $("saliency-panel").hidden = !e.target.checked;
  clearTimeout(live.saliencyTimer);
  if (e.target.checked) refreshSaliency();
});
onTab("live", refreshSessions);
setInterval(() => { if (!$("view-live").hidden) refreshSessions(); }, 2000);
