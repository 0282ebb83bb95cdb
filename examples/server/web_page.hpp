// web_page: the chat page llmt-server serves at / (one HTML file, no build step, nothing fetched from elsewhere)
#pragma once

namespace llmt_server {

inline constexpr const char* web_page = R"llmt_page(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>llmt chat</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0; display: flex; flex-direction: column; height: 100vh; background: #f6f6f4; }
  header { padding: 8px 16px; background: #22303c; color: #fff; display: flex; gap: 16px; align-items: center; flex-wrap: wrap; }
  header label { font-size: 13px; }
  header input { width: 70px; }
  #key-box { display: none; }
  #log { flex: 1; overflow-y: auto; padding: 16px; }
  .msg { max-width: 800px; margin: 8px auto; padding: 8px 12px; border-radius: 8px; white-space: pre-wrap; }
  .user { background: #dbe9ff; }
  .assistant { background: #fff; border: 1px solid #ddd; }
  .error { background: #ffe0e0; }
  form { display: flex; gap: 8px; padding: 12px 16px; background: #fff; border-top: 1px solid #ddd; }
  textarea { flex: 1; height: 48px; font: inherit; }
  #stats { font-size: 12px; color: #ccc; }
</style>
</head>
<body>
<header>
  <strong>llmt chat</strong>
  <span id="model"></span>
  <label>temperature <input id="temperature" type="number" min="0" max="2" step="0.1" value="0.8"></label>
  <label>max tokens <input id="max-tokens" type="number" min="1" max="100000" value="256"></label>
  <span id="key-box"><label>API key <input id="api-key" type="password" style="width:160px"></label></span>
  <span id="stats"></span>
</header>
<div id="log"></div>
<form id="form">
  <textarea id="input" placeholder="Type a message; Enter sends, Shift+Enter breaks the line"></textarea>
  <button id="send" type="submit">Send</button>
  <button id="stop" type="button" disabled>Stop</button>
</form>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const history = [];
let controller = null;
let apiKey = sessionStorage.getItem("llmt-api-key") || "";
$("api-key").value = apiKey;
$("api-key").addEventListener("change", () => { apiKey = $("api-key").value; sessionStorage.setItem("llmt-api-key", apiKey); });

function headers() {
  const h = { "Content-Type": "application/json" };
  if (apiKey) h["Authorization"] = "Bearer " + apiKey;
  return h;
}
function add(role, text) {
  const div = document.createElement("div");
  div.className = "msg " + role;
  div.textContent = text;
  $("log").appendChild(div);
  $("log").scrollTop = $("log").scrollHeight;
  return div;
}
function needKey(message) {
  $("key-box").style.display = "inline";
  add("error", message + " Enter the API key at the top and send again.");
  $("api-key").focus();
}
async function loadModel() {
  const r = await fetch("/v1/models", { headers: headers() });
  if (r.status === 401) { $("key-box").style.display = "inline"; return; }
  if (r.ok) { const j = await r.json(); $("model").textContent = j.data[0].id; }
}

async function send(text) {
  history.push({ role: "user", content: text });
  add("user", text);
  const out = add("assistant", "");
  controller = new AbortController();
  $("send").disabled = true; $("stop").disabled = false;
  const body = {
    messages: history, stream: true,
    temperature: Number($("temperature").value), max_tokens: Number($("max-tokens").value),
  };
  let reply = "", tokens = 0, first = 0, keep = true;
  const start = performance.now();
  try {
    const r = await fetch("/v1/chat/completions", { method: "POST", headers: headers(), body: JSON.stringify(body), signal: controller.signal });
    if (r.status === 401) { keep = false; out.remove(); history.pop(); needKey("The server asks for an API key."); return; }
    if (!r.ok) { const j = await r.json().catch(() => ({})); throw new Error((j.error && j.error.message) || ("HTTP " + r.status)); }
    const reader = r.body.getReader();
    const decoder = new TextDecoder();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buf.indexOf("\n\n")) >= 0) {
        const ev = buf.slice(0, cut); buf = buf.slice(cut + 2);
        if (!ev.startsWith("data: ")) continue;
        const data = ev.slice(6);
        if (data === "[DONE]") continue;
        const chunk = JSON.parse(data);
        if (chunk.error) throw new Error(chunk.error.message);
        for (const c of chunk.choices) {
          if (c.delta && c.delta.content) {
            if (!first) first = performance.now();
            reply += c.delta.content; tokens += 1;
            out.textContent = reply;
          }
        }
        const secs = first ? (performance.now() - first) / 1000 : 0;
        $("stats").textContent = tokens + " tokens" + (secs > 0 ? ", " + (tokens / secs).toFixed(1) + " tokens/s" : "");
        $("log").scrollTop = $("log").scrollHeight;
      }
    }
  } catch (e) {
    if (e.name !== "AbortError") add("error", String(e.message || e));
  } finally {
    const secs = (performance.now() - start) / 1000;
    $("stats").textContent = tokens + " tokens in " + secs.toFixed(2) + " s" + (first ? ", " + (tokens / Math.max(1e-3, (performance.now() - first) / 1000)).toFixed(1) + " tokens/s" : "");
    if (keep) history.push({ role: "assistant", content: reply });
    out.dataset.done = "1";
    controller = null;
    $("send").disabled = false; $("stop").disabled = true;
  }
}

$("form").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("input").value.trim();
  if (!text || controller) return;
  $("input").value = "";
  send(text);
});
$("input").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("form").requestSubmit(); }
});
$("stop").addEventListener("click", () => { if (controller) controller.abort(); });
loadModel();
</script>
</body>
</html>
)llmt_page";

}  // namespace llmt_server
