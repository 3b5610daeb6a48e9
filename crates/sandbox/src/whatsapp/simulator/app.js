// WhatsApp patient simulator. All text goes through textContent: clinic messages are never
// parsed as HTML. URLs are relative so the page works wherever the sandbox is mounted.
"use strict";

const $ = (id) => document.getElementById(id);
let numbers = [];
let users = [];
let lastSeen = "";

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function setStatus(text) { $("status").textContent = text || ""; }
function phone() { return $("number").value; }
function user() { return $("user").value; }

async function api(path, body) {
  const opts = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  const res = await fetch(path, opts);
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(json.error || ("HTTP " + res.status));
  return json;
}

function fill(select, items, value, label) {
  const keep = select.value;
  select.replaceChildren();
  items.forEach((it) => {
    const opt = el("option", null, label(it));
    opt.value = value(it);
    select.appendChild(opt);
  });
  if (items.some((it) => value(it) === keep)) select.value = keep;
}

async function loadState(selectWa) {
  const data = await api("simulator/api/state");
  numbers = data.numbers || [];
  users = data.users || [];
  fill($("number"), numbers, (n) => n.phone_number_id, (n) => "+" + n.display_phone_number);
  fill($("user"), users, (u) => u.wa_id, (u) => u.name + " (+" + u.wa_id + ")");
  if (selectWa) $("user").value = selectWa;
  lastSeen = "";
  refresh();
}

// A readable rendering of a message object (the user's, or the clinic's request body).
function describe(e) {
  const m = e.message;
  switch (m.type) {
    case "text": return m.text.body;
    case "image": case "video": case "audio": case "document": case "sticker":
      return "[" + m.type + "] " + ((m[m.type] && m[m.type].caption) || "");
    case "location": return "[位置情報 / Location] " + (m.location.name || "") + " " + m.location.latitude + "," + m.location.longitude;
    case "reaction": return "[リアクション / Reaction] " + (m.reaction.emoji || "(removed)");
    case "template": return e.rendered || ("[template " + m.template.name + "]");
    case "interactive": {
      const i = m.interactive;
      if (i.type === "button_reply") return i.button_reply.title;
      if (i.type === "list_reply") return i.list_reply.title;
      return (i.body && i.body.text) || ("[" + i.type + "]");
    }
    default: return "[" + m.type + "]";
  }
}

function replyButton(label, sub, payload) {
  const b = el("button", "action", label);
  b.type = "button";
  if (sub) b.appendChild(el("small", null, sub));
  b.addEventListener("click", () => send(payload));
  return b;
}

// Interactive buttons and list rows of a clinic message, as clickable replies.
function actionsOf(e) {
  const i = e.message.type === "interactive" && e.message.interactive;
  const out = [];
  if (!i || !i.action) return out;
  (i.action.buttons || []).forEach((b) => out.push(replyButton(b.reply.title, null,
    { kind: "button_reply", id: b.reply.id, title: b.reply.title, context: e.wamid })));
  (i.action.sections || []).forEach((s) => (s.rows || []).forEach((r) => out.push(replyButton(r.title,
    (s.title ? s.title + " · " : "") + (r.description || ""),
    { kind: "list_reply", id: r.id, title: r.title, context: e.wamid }))));
  return out;
}

const STATUS_MARK = { sent: "✓", delivered: "✓✓", read: "✓✓ 既読 / read", failed: "✗ failed" };

function render(entries) {
  const chat = $("chat");
  chat.replaceChildren();
  entries.forEach((e) => {
    const li = el("li", e.from === "user" ? "msg me" : "msg clinic");
    if (e.message.type === "template") li.appendChild(el("span", "label", "テンプレート / Template " + e.message.template.name));
    li.appendChild(el("div", "bubble", describe(e)));
    const acts = e.from === "business" ? actionsOf(e) : [];
    if (acts.length) {
      const row = el("div", "actions");
      acts.forEach((a) => row.appendChild(a));
      li.appendChild(row);
    }
    const meta = new Date(e.at).toLocaleTimeString() + (e.status ? " " + (STATUS_MARK[e.status] || e.status) : "");
    li.appendChild(el("span", "meta", meta));
    chat.appendChild(li);
  });
  chat.scrollTop = chat.scrollHeight;
}

async function refresh() {
  if (!phone() || !user()) return;
  try {
    const params = new URLSearchParams({ phone: phone(), user: user() });
    const data = await api("simulator/api/messages?" + params.toString());
    const entries = data.messages || [];
    const seen = JSON.stringify(entries.map((e) => [e.wamid, e.status]));
    if (seen !== lastSeen) {
      lastSeen = seen;
      render(entries);
    }
  } catch (err) {
    setStatus(String(err.message || err));
  }
}

async function send(extra) {
  if (!phone() || !user()) return setStatus("医院と患者を選んでください / Pick a clinic number and a patient");
  try {
    const res = await api("simulator/api/send", Object.assign({ phone: phone(), user: user() }, extra));
    setStatus("Webhook → HTTP " + res.webhook_status);
  } catch (err) {
    setStatus("送信できません / Could not send: " + (err.message || err));
  }
  refresh();
}

document.addEventListener("DOMContentLoaded", () => {
  $("number").addEventListener("change", () => { lastSeen = ""; refresh(); });
  $("user").addEventListener("change", () => { lastSeen = ""; refresh(); });
  $("composer").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("text").value;
    if (!text.trim()) return;
    $("text").value = "";
    send({ kind: "text", text });
  });
  $("image").addEventListener("click", () => send({ kind: "image" }));
  $("location").addEventListener("click", () => send({ kind: "location" }));
  $("new-user").addEventListener("submit", async (e) => {
    e.preventDefault();
    const name = $("new-name").value.trim();
    const wa = $("new-wa").value.trim();
    try {
      await api("simulator/api/users", { name, wa_id: wa });
      $("new-name").value = "";
      $("new-wa").value = "";
      await loadState(wa);
      setStatus("追加しました / Added");
    } catch (err) {
      setStatus(String(err.message || err));
    }
  });
  loadState().catch((err) => setStatus(String(err.message || err)));
  setInterval(refresh, 1000);
});
