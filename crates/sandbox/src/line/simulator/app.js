// Patient simulator. All text goes through textContent: clinic messages are never parsed as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
let users = [];
let current = null; // { channel, user_id, display_name, blocked }
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

async function loadUsers(selectId) {
  const data = await api("/simulator/api/users");
  users = data.users || [];
  const sel = $("user");
  sel.replaceChildren();
  users.forEach((u, i) => {
    const label = u.display_name + " (" + u.user_id.slice(0, 9) + "…)" + (u.blocked ? " ブロック中 / blocked" : "");
    const opt = el("option", null, label);
    opt.value = String(i);
    sel.appendChild(opt);
  });
  let idx = users.findIndex((u) => u.user_id === selectId);
  if (idx < 0 && current) idx = users.findIndex((u) => u.user_id === current.user_id && u.channel === current.channel);
  if (idx < 0) idx = 0;
  sel.value = String(idx);
  select(idx);
}

function select(idx) {
  current = users[idx] || null;
  lastCount = -1;
  lastMenu = "";
  $("state").textContent = current && current.blocked ? "ブロック中 / Blocked" : "";
  refresh();
}

// A readable rendering of a LINE message object.
function describe(m) {
  switch (m.type) {
    case "text": case "textV2": return m.text;
    case "sticker": return "[スタンプ / Sticker " + m.packageId + "/" + m.stickerId + "]";
    case "image": return "[画像 / Image]";
    case "video": return "[動画 / Video]";
    case "audio": return "[音声 / Audio]";
    case "location": return "[位置情報 / Location] " + (m.title || "") + " " + (m.address || "");
    case "template": return (m.template && m.template.text) || m.altText;
    case "flex": return "[Flex] " + m.altText;
    case "imagemap": return "[Imagemap] " + m.altText;
    default: return "[" + m.type + "]";
  }
}

function actionsOf(m) {
  const out = [];
  if (m.type === "template" && m.template) {
    (m.template.actions || []).forEach((a) => out.push(a));
    (m.template.columns || []).forEach((c) => (c.actions || []).forEach((a) => out.push(a)));
  }
  return out;
}

function actionButton(a) {
  const b = el("button", "action", a.label || a.text || a.displayText || a.type);
  b.type = "button";
  b.addEventListener("click", () => runAction(a));
  return b;
}

async function runAction(a) {
  if (a.type === "message") return send({ kind: "text", text: a.text || a.label || "" });
  if (a.type === "postback") return send({ kind: "postback", data: a.data || "" });
  if (a.type === "uri" && /^https?:\/\//.test(a.uri || "")) {
    window.open(a.uri, "_blank", "noopener,noreferrer");
    return;
  }
  setStatus("この操作はシミュレーターでは未対応です / Not supported in the simulator: " + a.type);
}

function render(entries) {
  const chat = $("chat");
  chat.replaceChildren();
  let quick = null;
  entries.forEach((e) => {
    const li = el("li", e.from === "user" ? "msg me" : "msg clinic");
    li.appendChild(el("div", "bubble", describe(e.message)));
    const acts = actionsOf(e.message);
    if (acts.length) {
      const row = el("div", "actions");
      acts.forEach((a) => row.appendChild(actionButton(a)));
      li.appendChild(row);
    }
    // As in LINE: 既読 under your own message once the account marked it read.
    if (e.from === "user" && e.read) li.appendChild(el("span", "read", "既読"));
    li.appendChild(el("time", "at", new Date(e.at).toLocaleTimeString()));
    chat.appendChild(li);
    // LINE shows quick replies only under the latest message.
    quick = e.from === "bot" && e.message.quickReply ? e.message.quickReply.items : null;
  });
  const q = $("quick");
  q.replaceChildren();
  (quick || []).forEach((item) => item.action && q.appendChild(actionButton(item.action)));
  chat.scrollTop = chat.scrollHeight;
}

async function refresh() {
  if (!current) return;
  try {
    const params = new URLSearchParams({ user: current.user_id, channel: current.channel });
    const data = await api("/simulator/api/messages?" + params.toString());
    const entries = data.messages || [];
    if (entries.length !== lastCount) {
      lastCount = entries.length;
      render(entries);
    }
    renderMenu((await api("/simulator/api/richmenu?" + params.toString())).menu);
  } catch (err) {
    setStatus(String(err.message || err));
  }
}

let lastMenu = "";

// The rich menu under the chat: its chat bar text and one button per area, by its label.
function renderMenu(menu) {
  const key = JSON.stringify(menu || null);
  if (key === lastMenu) return;
  lastMenu = key;
  const box = $("richmenu");
  box.hidden = !menu;
  const areas = $("richmenu-areas");
  areas.replaceChildren();
  if (!menu) return;
  $("richmenu-bar").textContent = "▼ " + menu.chat_bar_text + "（リッチメニュー: " + menu.name + "）";
  menu.areas.forEach((a, i) => {
    const act = a.action || {};
    const b = el("button", null, act.label || act.text || act.uri || act.data || act.type);
    b.type = "button";
    b.addEventListener("click", () => tap(i));
    areas.appendChild(b);
  });
}

async function tap(area) {
  if (!current) return;
  try {
    const res = await api("/simulator/api/richmenu/tap", { channel: current.channel, user: current.user_id, area });
    if (res.open) {
      setStatus("開くリンク / Opens: " + res.open);
    } else {
      setStatus("Webhook → HTTP " + res.webhook_status);
    }
  } catch (err) {
    setStatus("送信できません / Could not send: " + (err.message || err));
  }
  refresh();
}

async function send(extra) {
  if (!current) return setStatus("患者を選んでください / Pick a patient first");
  try {
    const res = await api("/simulator/api/send", Object.assign({ channel: current.channel, user: current.user_id }, extra));
    setStatus("Webhook → HTTP " + res.webhook_status);
  } catch (err) {
    setStatus("送信できません / Could not send: " + (err.message || err));
  }
  if (extra.kind === "follow" || extra.kind === "unfollow") await loadUsers(current.user_id);
  refresh();
}

document.addEventListener("DOMContentLoaded", () => {
  $("user").addEventListener("change", (e) => select(Number(e.target.value)));
  $("composer").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("text").value;
    if (!text.trim()) return;
    // A pasted (or "scanned") oaMessage link opens the chat with its message prefilled, as
    // LINE does: https://line.me/R/oaMessage/{basic id}/?{text}
    const oa = text.trim().match(/^https:\/\/line\.me\/R\/oaMessage\/[^/]+\/\?(.*)$/);
    if (oa) {
      try {
        $("text").value = decodeURIComponent(oa[1]);
        setStatus("QRコードのメッセージを入れました。送信してください / Message from the QR code filled in: send it");
      } catch (_) {
        setStatus("読み取れないリンクです / Unreadable link");
      }
      return;
    }
    $("text").value = "";
    send({ kind: "text", text });
  });
  $("follow").addEventListener("click", () => send({ kind: "follow" }));
  $("unfollow").addEventListener("click", () => send({ kind: "unfollow" }));
  $("image").addEventListener("click", () => send({ kind: "image" }));
  $("new-user").addEventListener("submit", async (e) => {
    e.preventDefault();
    const name = $("new-name").value.trim();
    const channel = current ? current.channel : (users[0] && users[0].channel);
    if (!name || !channel) return setStatus("名前とチャネルが必要です / A name and a channel are needed");
    try {
      const res = await api("/simulator/api/users", { channel, display_name: name });
      $("new-name").value = "";
      await loadUsers(res.user_id);
      setStatus("友だち追加しました / Added as a friend → HTTP " + res.webhook_status);
    } catch (err) {
      setStatus(String(err.message || err));
    }
  });
  loadUsers().catch((err) => setStatus(String(err.message || err)));
  setInterval(refresh, 1000);
});
