/* Train tab: a job form built from the API's own JobParams schema (/openapi.json: defaults shown),
   POST /v1/jobs (a 422's errors shown next to their fields), then the job followed over
   GET /v1/jobs/{id}/events (server-sent events, read with fetch so the token goes in a header). */
"use strict";
const train = { schema: null, fields: [], follow: null };

function resolveRef(schemas, s) { return s && s.$ref ? schemas[s.$ref.split("/").pop()] : s; }

/** Flatten JobParams into fields: {key ("augmentation.flip"), kind, default, options, nullable, description}. */
function formFields(schemas) {
  const out = [];
  const walk = (schema, prefix) => {
    for (const [name, raw] of Object.entries(schema.properties || {})) {
      if (!prefix && name === "datasets") continue;
      const key = prefix ? prefix + "." + name : name;
      let s = resolveRef(schemas, raw), nullable = false;
      if (s.anyOf) { nullable = s.anyOf.some((a) => a.type === "null"); s = { ...resolveRef(schemas, s.anyOf.find((a) => a.type !== "null")), default: s.default, description: s.description }; }
      if (s.type === "object" && s.properties) { walk(s, key); continue; }
      const def = raw.default !== undefined ? raw.default : s.default;
      const field = { key, default: def, nullable, description: raw.description || s.description || "" };
      if (s.type === "boolean") field.kind = "bool";
      else if (s.type === "integer" || s.type === "number") { field.kind = "number"; field.integer = s.type === "integer"; }
      else if (s.enum) { field.kind = "enum"; field.options = s.enum; }
      else if (s.type === "array" && s.items && resolveRef(schemas, s.items).enum) { field.kind = "multi"; field.options = resolveRef(schemas, s.items).enum; }
      else if (s.type === "array") field.kind = "list";
      else field.kind = "text";
      out.push(field);
    }
  };
  walk(schemas.JobParams, "");
  return out;
}

function fieldHtml(f) {
  const id = "f-" + f.key.replace(/\./g, "-");
  const title = esc(f.description);
  let input;
  if (f.kind === "bool") input = `<input type="checkbox" id="${id}" ${f.default ? "checked" : ""} style="width:auto">`;
  else if (f.kind === "enum") input = `<select id="${id}">${f.options.map((o) => `<option ${o === f.default ? "selected" : ""}>${esc(o)}</option>`).join("")}</select>`;
  else if (f.kind === "multi") input = `<span id="${id}">${f.options.map((o) => `<label style="display:inline"><input type="checkbox" value="${esc(o)}" style="width:auto" ${(f.default || []).includes(o) ? "checked" : ""}>${esc(o)}</label> `).join("")}</span>`;
  else if (f.kind === "number") input = `<input type="number" step="any" id="${id}" value="${f.default ?? ""}" placeholder="${f.nullable ? "none" : ""}">`;
  else if (f.kind === "list") input = `<input type="text" id="${id}" value="${esc((f.default || []).join(","))}" placeholder="comma-separated">`;
  else input = `<input type="text" id="${id}" value="${esc(f.default ?? "")}" placeholder="${f.nullable ? "none" : ""}">`;
  return `<div><label for="${id}" title="${title}">${esc(f.key)} <span class="dim">(default ${f.default === undefined ? "from the API" : esc(JSON.stringify(f.default))})</span></label>${input}<div class="field-error" data-error="${esc(f.key)}"></div></div>`;
}

function fieldValue(f) {
  const el = $("f-" + f.key.replace(/\./g, "-"));
  if (f.kind === "bool") return el.checked;
  if (f.kind === "multi") {
    const chosen = [...el.querySelectorAll("input:checked")].map((i) => i.value);
    return chosen.length || f.default !== undefined ? chosen : undefined;  // none ticked, no schema default: the API's
  }
  const text = el.value.trim();
  if (text === "") return f.nullable ? null : undefined;
  if (f.kind === "number") return Number.isNaN(Number(text)) ? text : Number(text);  // the API names a bad number
  if (f.kind === "list") return text.split(",").map((t) => t.trim()).filter(Boolean);
  return text;
}

/** The job body: datasets + every field whose value differs from its default (nested keys as objects). */
function jobBody() {
  const body = { datasets: [...document.querySelectorAll("#train-datasets input:checked")].map((i) => i.value) };
  for (const f of train.fields) {
    const value = fieldValue(f);
    if (value === undefined || JSON.stringify(value) === JSON.stringify(f.default)) continue;
    const parts = f.key.split(".");
    let target = body;
    parts.slice(0, -1).forEach((p) => { target = target[p] = target[p] || {}; });
    target[parts[parts.length - 1]] = value;
  }
  return body;
}

function showErrors(error) {
  document.querySelectorAll("#train-form .field-error").forEach((e) => { e.textContent = ""; });
  document.querySelectorAll("#train-form .invalid").forEach((e) => e.classList.remove("invalid"));
  const details = error.body && Array.isArray(error.body.detail) ? error.body.detail : [];
  const unplaced = [];
  for (const d of details) {
    const key = (d.loc || []).filter((p) => p !== "body").join(".");
    const slot = document.querySelector(`#train-form .field-error[data-error="${CSS.escape(key)}"]`)
      || document.querySelector(`#train-form .field-error[data-error="${CSS.escape(key.split(".")[0])}"]`);
    if (slot) { slot.textContent = d.msg; const input = slot.parentElement.querySelector("input, select"); if (input) input.classList.add("invalid"); }
    else unplaced.push(`${key}: ${d.msg}`);
  }
  $("train-message").textContent = details.length ? unplaced.join("; ") : error.message;
}

async function loadTrainForm() {
  if (!train.schema) {
    const spec = await (await fetch("/openapi.json")).json();
    train.schema = spec.components.schemas;
    train.fields = formFields(train.schema);
    $("train-params").innerHTML = train.fields.map(fieldHtml).join("");
  }
  const list = await (await api("/v1/datasets")).json();
  const chosen = new Set([...document.querySelectorAll("#train-datasets input:checked")].map((i) => i.value));
  $("train-datasets").innerHTML = list.length ? list.map((d) =>
    `<label><input type="checkbox" value="${esc(d.name)}" ${chosen.has(d.name) ? "checked" : ""}> ${esc(d.name)} <span class="dim">${d.frames} frames</span></label>`).join("")
    : `<span class="dim">no datasets yet: tensorkart record --source sim …</span>`;
}

/** Server-sent events over fetch: calls onEvent(name, data) for each event until the stream ends. */
async function readEvents(path, onEvent, signal) {
  const response = await api(path, { signal, headers: { Accept: "text/event-stream" } });
  const reader = response.body.getReader(), decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end); buffer = buffer.slice(end + 2);
      let name = "message", data = "";
      block.split("\n").forEach((line) => { if (line.startsWith("event:")) name = line.slice(6).trim(); else if (line.startsWith("data:")) data += line.slice(5).trim(); });
      if (data) onEvent(name, JSON.parse(data));
    }
  }
}

function renderFollow(j, ended) {
  const p = j.progress || {}, pct = Math.round((p.fraction || 0) * 100);
  const model = j.model_version ? `<p>model <b id="follow-model">${esc(j.model_version)}</b> <button data-promote-follow="${esc(j.model_version)}">Promote</button> <button data-compare="${esc(j.model_version)}">Compare…</button></p>` : "";
  const ev = j.evaluation && j.evaluation.tracks ? Object.values(j.evaluation.tracks).map((t) => t.error ? `${esc(t.track || "")}: ${esc(t.error)}` : `${esc(t.track)} autonomy ${fmt(t.autonomy, 3)}`).join(", ") : "";
  $("follow-id").textContent = j.id.slice(0, 8);
  $("follow").innerHTML = `<div id="follow-state" data-state="${esc(j.state)}"><span class="badge s-${esc(j.state)}">${esc(j.state)}${j.phase && j.phase !== j.state ? " · " + esc(j.phase) : ""}</span> ${esc((j.datasets || []).join(", "))}</div>` +
    `<div class="dim">epoch ${p.epoch || 0}/${p.epochs || "?"} · step ${p.step || 0}/${p.steps || "?"} · loss ${fmt(p.loss)}${j.eta_s != null && !ended ? " · ETA " + Math.round(j.eta_s) + " s" : ""}</div>` +
    `<div class="bar" style="width:100%"><div style="width:${pct}%"></div></div>${lossSvg(j.history || [], 520, 160)}` +
    (j.error ? `<div class="err">${esc(j.error)}</div>` : "") + model + (ev ? `<div class="dim">evaluation: ${ev}</div>` : "") +
    `<div class="log">${(j.log || []).slice(-8).map(esc).join("\n")}</div>`;
  const promote = document.querySelector("button[data-promote-follow]");
  if (promote) promote.addEventListener("click", async () => {
    try { await api(`/v1/models/${promote.dataset.promoteFollow}/promote`, { method: "POST" }); promote.textContent = "promoted"; promote.disabled = true; } catch (e) { alert(e.message); }
  });
  const compare = document.querySelector("button[data-compare]");
  if (compare) compare.addEventListener("click", () => { $("cmp-b").dataset.want = compare.dataset.compare; showTab("compare"); });
}

async function followJob(id) {
  if (train.follow) train.follow.abort();
  const controller = new AbortController();
  train.follow = controller;
  showTab("train");
  try {
    await readEvents(`/v1/jobs/${encodeURIComponent(id)}/events`, (name, job) => renderFollow(job, name === "end"), controller.signal);
  } catch (e) { if (e.name !== "AbortError") $("train-message").textContent = e.message; }
}

$("train-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  showErrors({ body: { detail: [] }, message: "" });  // the last answer's errors go; this one's come back
  try {
    const submitted = await (await api("/v1/jobs", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(jobBody()) })).json();
    followJob(submitted.id);
  } catch (e) { showErrors(e); }
});
document.addEventListener("click", (e) => { const id = e.target.dataset && e.target.dataset.follow; if (id) followJob(id); });
onTab("train", () => loadTrainForm().catch((e) => { $("train-message").textContent = e.message; }));
