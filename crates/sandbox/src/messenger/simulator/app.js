// Messenger chat simulator. All text goes through textContent: clinic messages are never parsed
// as HTML. Every URL is relative: the page may be served under a prefix (/messenger/simulator).
"use strict";

const $ = (id) => document.getElementById(id);
let users = [];
let current = null; // { page, page_name, instagram, psid, name, blocked }
let lastCount = -1;

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

async function loadUsers(selectPsid) {
  const data = await api("simulator/api/users");
  users = data.users || [];
  const sel = $("user");
  sel.replaceChildren();
  users.forEach((u, i) => {
    const where = (u.instagram ? "Instagram " : "") + (u.page_name || u.page);
    const opt = el("option", null, u.name + " → " + where + (u.blocked ? " (ブロック中 / blocked)" : ""));
    opt.value = String(i);
    sel.appendChild(opt);
  });
  let idx = users.findIndex((u) => u.psid === selectPsid);
  if (idx < 0 && current) idx = users.findIndex((u) => u.psid === current.psid && u.page === current.page);
  if (idx < 0) idx = 0;
  sel.value = String(idx);
  select(idx);
}

function select(idx) {
  current = users[idx] || null;
  lastCount = -1;
  $("state").textContent = current && current.blocked ? "ブロック中 / Blocked" : "";
  refresh();
}

// The visible part of a Messenger message object (or a postback the person tapped).
function bubble(m) {
  const b = el("div", "bubble");
  if (m.postback) { b.textContent = m.postback.title || m.postback.payload; return b; }
  if (m.referral) { b.textContent = "m.me リンクから開きました / Opened from a link (ref=" + (m.referral.ref || "") + ")"; return b; }
  if (m.text) { b.textContent = m.text; return b; }
  const a = m.attachment || (m.attachments && m.attachments[0]);
  if (!a) { b.textContent = "[?]"; return b; }
  const p = a.payload || {};
  if (a.type === "image" && /^https?:\/\//.test(p.url || "")) {
    const img = el("img");
    img.src = p.url;
    img.alt = "画像 / Image";
    b.appendChild(img);
  } else if (a.type === "template") {
    b.textContent = p.text || (p.elements && p.elements[0] && p.elements[0].title) || "[template]";
  } else {
    b.textContent = "[" + a.type + "] " + (p.url || "");
  }
  return b;
}

function buttonsOf(m) {
  const p = m.attachment && m.attachment.type === "template" ? m.attachment.payload || {} : {};
  const out = (p.buttons || []).slice();
  (p.elements || []).forEach((e) => (e.buttons || []).forEach((x) => out.push(x)));
  return out;
}

function actionButton(label, onClick) {
  const b = el("button", "action", label);
  b.type = "button";
  b.addEventListener("click", onClick);
  return b;
}

function templateButton(x) {
  return actionButton(x.title || x.type, () => {
    if (x.type === "postback") return send({ kind: "postback", title: x.title || "", payload: x.payload || "" });
    if (x.type === "web_url" && /^https?:\/\//.test(x.url || "")) return window.open(x.url, "_blank", "noopener,noreferrer");
    setStatus("この操作はシミュレーターでは未対応です / Not supported in the simulator: " + x.type);
  });
}

function render(entries) {
  const chat = $("chat");
  chat.replaceChildren();
  let quick = null;
  entries.forEach((e) => {
    const li = el("li", e.from === "user" ? "msg me" : "msg clinic");
    li.appendChild(bubble(e.message));
    const buttons = buttonsOf(e.message);
    if (buttons.length) {
      const row = el("div", "actions");
      buttons.forEach((x) => row.appendChild(templateButton(x)));
      li.appendChild(row);
    }
    li.appendChild(el("time", "at", new Date(e.at).toLocaleTimeString()));
    chat.appendChild(li);
    // Messenger shows quick replies only under the latest message.
    quick = e.from === "page" && e.message.quick_replies ? e.message.quick_replies : null;
  });
  const q = $("quick");
  q.replaceChildren();
  (quick || []).filter((r) => r.content_type === "text").forEach((r) => {
    q.appendChild(actionButton(r.title, () => send({ kind: "quick_reply", title: r.title, payload: String(r.payload) })));
  });
  chat.scrollTop = chat.scrollHeight;
}

async function refresh() {
  if (!current) return;
  try {
    const params = new URLSearchParams({ page: current.page, psid: current.psid });
    const data = await api("simulator/api/messages?" + params.toString());
    const entries = data.messages || [];
    if (entries.length !== lastCount) {
      lastCount = entries.length;
      render(entries);
    }
  } catch (err) {
    setStatus(String(err.message || err));
  }
}

async function send(extra) {
  if (!current) return setStatus("患者を選んでください / Pick a person first");
  try {
    const res = await api("simulator/api/send", Object.assign({ page: current.page, psid: current.psid }, extra));
    setStatus("Webhook → HTTP " + res.webhook_status);
  } catch (err) {
    setStatus("送信できません / Could not send: " + (err.message || err));
  }
  refresh();
}

document.addEventListener("DOMContentLoaded", () => {
  $("user").addEventListener("change", (e) => select(Number(e.target.value)));
  $("composer").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("text").value;
    if (!text.trim()) return;
    $("text").value = "";
    send({ kind: "text", text });
  });
  $("image").addEventListener("click", () => send({ kind: "image" }));
  $("link").addEventListener("submit", (e) => {
    e.preventDefault();
    const ref = $("link-ref").value.trim();
    if (ref) send({ kind: "link", payload: ref });
  });
  $("new-user").addEventListener("submit", async (e) => {
    e.preventDefault();
    const first = $("new-first").value.trim();
    const last = $("new-last").value.trim();
    const page = current ? current.page : (users[0] && users[0].page);
    if (!first || !page) return setStatus("名前とページが必要です / A name and a page are needed");
    try {
      const res = await api("simulator/api/users", { page, first_name: first, last_name: last });
      $("new-first").value = "";
      $("new-last").value = "";
      await loadUsers(res.psid);
      setStatus("追加しました / Added");
    } catch (err) {
      setStatus(String(err.message || err));
    }
  });
  loadUsers().catch((err) => setStatus(String(err.message || err)));
  setInterval(refresh, 1000);
});
