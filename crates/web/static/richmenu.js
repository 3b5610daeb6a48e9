// Rich menu areas: drag rectangles over the image; each gets a label and an action (send text,
// open an https URL, switch to another menu by its alias). The list is kept as LINE's area
// objects (bounds in image pixels) in the hidden input the form posts. No inline script (CSP).
"use strict";

(function () {
  const canvas = document.getElementById("rm-canvas");
  const input = document.getElementById("rm-areas");
  const list = document.getElementById("rm-area-list");
  if (!canvas || !input || !list) return;
  const W = Number(canvas.dataset.width);
  const H = Number(canvas.dataset.height);
  const words = list.dataset;
  const aliases = Array.from(document.querySelectorAll("#rm-alias-options option"))
    .map((o) => ({ value: o.value, label: o.textContent }));
  let areas = [];
  try { areas = JSON.parse(input.value || "[]"); } catch (_) { areas = []; }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // Image pixels per screen pixel.
  function scale() { return W / canvas.getBoundingClientRect().width; }

  function kindOf(a) {
    const t = a.action && a.action.type;
    return t === "uri" ? "uri" : t === "richmenuswitch" ? "switch" : "message";
  }

  function valueOf(a) {
    const act = a.action || {};
    return act.type === "uri" ? act.uri || "" : act.type === "richmenuswitch" ? act.richMenuAliasId || "" : act.text || "";
  }

  function setAction(a, kind, value, label) {
    const lab = label ? { label } : {};
    if (kind === "uri") a.action = Object.assign({ type: "uri", uri: value }, lab);
    else if (kind === "switch") a.action = Object.assign({ type: "richmenuswitch", richMenuAliasId: value, data: "richmenu-switch:" + value }, lab);
    else a.action = Object.assign({ type: "message", text: value }, lab);
  }

  function save() { input.value = JSON.stringify(areas); }

  function drawBoxes() {
    canvas.querySelectorAll(".rm-box").forEach((b) => b.remove());
    const s = scale();
    areas.forEach((a, i) => {
      const b = el("div", "rm-box", String(i + 1));
      b.style.left = (a.bounds.x / s) + "px";
      b.style.top = (a.bounds.y / s) + "px";
      b.style.width = (a.bounds.width / s) + "px";
      b.style.height = (a.bounds.height / s) + "px";
      canvas.appendChild(b);
    });
  }

  function field(labelText, control) {
    const p = el("p", "field");
    const l = el("label", null, labelText);
    l.appendChild(control);
    p.appendChild(l);
    return p;
  }

  function renderList() {
    list.replaceChildren();
    document.getElementById("rm-empty").hidden = areas.length > 0;
    areas.forEach((a, i) => {
      const li = el("li", "rm-area");
      li.appendChild(el("strong", null, words.area + " " + (i + 1)));
      const label = el("input");
      label.maxLength = 20;
      label.value = (a.action && a.action.label) || "";
      const kind = el("select");
      [["message", words.kindMessage], ["uri", words.kindUri], ["switch", words.kindSwitch]].forEach(([v, t]) => {
        const o = el("option", null, t);
        o.value = v;
        kind.appendChild(o);
      });
      kind.value = kindOf(a);
      const valueBox = el("span");
      let value;
      function makeValue() {
        valueBox.replaceChildren();
        const k = kind.value;
        if (k === "switch") {
          value = el("select");
          if (!aliases.length) {
            const o = el("option", null, words.noAlias);
            o.value = "";
            value.appendChild(o);
          }
          aliases.forEach((al) => {
            const o = el("option", null, al.label);
            o.value = al.value;
            value.appendChild(o);
          });
        } else {
          value = el("input");
          value.type = k === "uri" ? "url" : "text";
          value.maxLength = k === "uri" ? 1000 : 300;
          value.placeholder = k === "uri" ? "https://" : "";
        }
        const current = valueOf(a);
        if (kindOf(a) === k) value.value = current;
        value.addEventListener("input", update);
        value.addEventListener("change", update);
        valueBox.appendChild(field(k === "switch" ? words.valueSwitch : k === "uri" ? words.valueUri : words.valueMessage, value));
      }
      function update() {
        setAction(a, kind.value, value.value.trim(), label.value.trim());
        save();
      }
      makeValue();
      kind.addEventListener("change", () => { makeValue(); update(); });
      label.addEventListener("input", update);
      li.appendChild(field(words.labelLabel, label));
      li.appendChild(field(words.kindLabel, kind));
      li.appendChild(valueBox);
      const remove = el("button", "btn btn-small btn-danger", words.remove);
      remove.type = "button";
      remove.addEventListener("click", () => {
        areas.splice(i, 1);
        save();
        renderList();
        drawBoxes();
      });
      li.appendChild(remove);
      list.appendChild(li);
    });
  }

  // Drawing: press, drag, release over the image.
  let start = null;
  let ghost = null;
  function point(e) {
    const r = canvas.getBoundingClientRect();
    const x = Math.min(Math.max(e.clientX - r.left, 0), r.width);
    const y = Math.min(Math.max(e.clientY - r.top, 0), r.height);
    return { x, y };
  }
  canvas.addEventListener("pointerdown", (e) => {
    if (areas.length >= 20) return;
    start = point(e);
    ghost = el("div", "rm-box rm-ghost");
    canvas.appendChild(ghost);
    canvas.setPointerCapture(e.pointerId);
    e.preventDefault();
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!start) return;
    const p = point(e);
    ghost.style.left = Math.min(p.x, start.x) + "px";
    ghost.style.top = Math.min(p.y, start.y) + "px";
    ghost.style.width = Math.abs(p.x - start.x) + "px";
    ghost.style.height = Math.abs(p.y - start.y) + "px";
  });
  canvas.addEventListener("pointerup", (e) => {
    if (!start) return;
    const p = point(e);
    const s = scale();
    const x = Math.round(Math.min(p.x, start.x) * s);
    const y = Math.round(Math.min(p.y, start.y) * s);
    const width = Math.min(Math.round(Math.abs(p.x - start.x) * s), W - x);
    const height = Math.min(Math.round(Math.abs(p.y - start.y) * s), H - y);
    start = null;
    ghost.remove();
    if (width < 20 || height < 20) return;
    const a = { bounds: { x, y, width, height }, action: { type: "message", text: "" } };
    areas.push(a);
    save();
    renderList();
    drawBoxes();
  });

  window.addEventListener("resize", drawBoxes);
  document.getElementById("rm-image").addEventListener("load", drawBoxes);
  renderList();
  drawBoxes();
})();
