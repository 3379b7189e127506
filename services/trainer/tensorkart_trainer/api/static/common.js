/* TensorKart dashboard: what every tab shares (token, REST calls, escaping, tabs). */
"use strict";
const $ = (id) => document.getElementById(id);
const tokenInput = $("token");
tokenInput.value = localStorage.getItem("tensorkart-token") || "";
const tokenListeners = [];
tokenInput.addEventListener("change", () => { localStorage.setItem("tensorkart-token", tokenInput.value); tokenListeners.forEach((f) => f()); });

function headers() {
  const t = tokenInput.value.trim();
  return t ? { "Authorization": "Bearer " + t } : {};
}
/** Raised for an API answer that is not 2xx: status, the parsed JSON body when there is one. */
class ApiError extends Error {
  constructor(status, body, text) { super(status + ": " + (body && (body.message || JSON.stringify(body.detail))) || text); this.status = status; this.body = body; }
}
async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: { ...headers(), ...(options.headers || {}) } });
  if (response.status === 401) throw new ApiError(401, null, "enter the API token (TENSORKART_TOKEN) above");
  if (!response.ok) {
    const text = await response.text();
    let body = null;
    try { body = JSON.parse(text); } catch (e) { /* not JSON */ }
    throw new ApiError(response.status, body, text);
  }
  return response;
}
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const fmt = (v, d = 4) => (typeof v === "number" && isFinite(v)) ? v.toFixed(d) : "–";
const SVG = "http://www.w3.org/2000/svg";

/* Tabs: #tab-NAME buttons show the section #view-NAME; the hash remembers the tab. */
const tabListeners = {};
function showTab(name) {
  document.querySelectorAll("nav button[data-tab]").forEach((b) => b.classList.toggle("on", b.dataset.tab === name));
  document.querySelectorAll("main[data-view]").forEach((m) => { m.hidden = m.dataset.view !== name; });
  if (location.hash.slice(1) !== name) history.replaceState(null, "", "#" + name);
  (tabListeners[name] || []).forEach((f) => f());
}
function onTab(name, f) { (tabListeners[name] = tabListeners[name] || []).push(f); }
document.querySelectorAll("nav button[data-tab]").forEach((b) => b.addEventListener("click", () => showTab(b.dataset.tab)));
window.addEventListener("DOMContentLoaded", () => showTab(location.hash.slice(1) || "overview"));
