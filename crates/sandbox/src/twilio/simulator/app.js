// SMS patient simulator. Text goes through textContent only: clinic messages are never parsed as HTML.
// Every URL is relative so the page works wherever the sandbox router is mounted (e.g. /twilio/).
"use strict";

const $ = (id) => document.getElementById(id);
let lastKey = "";

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function setStatus(text) { $("status").textContent = text || ""; }

async function api(path, body) {
  const opts = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  const res = await fetch(path, opts);
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(json.error || ("HTTP " + res.status));
  return json;
}

async function loadState() {
  const data = await api("simulator/api/state");
  const sel = $("number");
  const keep = sel.value;
  sel.replaceChildren();
  (data.numbers || []).forEach((n) => {
    const opt = el("option", null, n);
    opt.value = n;
    sel.appendChild(opt);
  });
  if (keep) sel.value = keep;
  const list = $("phones");
  list.replaceChildren();
  (data.phones || []).forEach((p) => { const o = el("option"); o.value = p; list.appendChild(o); });
}

function statusLabel(m) {
  if (m.mine) return "";
  const label = { accepted: "受付 / accepted", queued: "待機 / queued", sent: "送信済 / sent",
    delivered: "配信済 / delivered", undelivered: "未配信 / undelivered", failed: "失敗 / failed" }[m.status] || m.status;
  return m.error_code ? label + " (" + m.error_code + ")" : label;
}

function render(data) {
  const chat = $("chat");
  chat.replaceChildren();
  (data.messages || []).forEach((m) => {
    const li = el("li", "msg " + (m.mine ? "me" : "clinic") + (m.auto ? " auto" : ""));
    const text = m.body + (m.media ? (m.body ? "\n" : "") + "[写真 / photo ×" + m.media + "]" : "");
    li.appendChild(el("div", "bubble", text));
    const meta = [new Date(m.at).toLocaleTimeString(), statusLabel(m), m.auto ? "Twilio 自動応答 / auto-reply" : ""];
    li.appendChild(el("span", "meta", meta.filter(Boolean).join(" · ")));
    chat.appendChild(li);
  });
  $("state").textContent = data.opted_out ? "配信停止中 / opted out" : "";
  chat.scrollTop = chat.scrollHeight;
}

async function refresh() {
  const number = $("number").value;
  const phone = $("phone").value.trim();
  if (!number || !phone) return;
  try {
    const params = new URLSearchParams({ number, phone });
    const data = await api("simulator/api/messages?" + params.toString());
    const key = JSON.stringify(data);
    if (key !== lastKey) { lastKey = key; render(data); }
  } catch (err) {
    setStatus(String(err.message || err));
  }
}

async function send(body, photo) {
  const number = $("number").value;
  const phone = $("phone").value.trim();
  if (!number) return setStatus("医院の番号がありません / No clinic number configured");
  try {
    const res = await api("simulator/api/send", { number, phone, body, photo: !!photo });
    setStatus("Webhook → HTTP " + res.webhook_status);
  } catch (err) {
    setStatus("送信できません / Could not send: " + (err.message || err));
  }
  await loadState().catch(() => {});
  refresh();
}

document.addEventListener("DOMContentLoaded", () => {
  $("number").addEventListener("change", () => { lastKey = ""; refresh(); });
  $("phone").addEventListener("change", () => { lastKey = ""; refresh(); });
  $("composer").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("text").value;
    if (!text.trim()) return;
    $("text").value = "";
    send(text, false);
  });
  $("stop").addEventListener("click", () => send("STOP", false));
  $("start").addEventListener("click", () => send("START", false));
  $("photo").addEventListener("click", () => send("", true));
  loadState().then(refresh).catch((err) => setStatus(String(err.message || err)));
  setInterval(refresh, 1000);
});
