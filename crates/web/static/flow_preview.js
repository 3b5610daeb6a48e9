// The flow preview (/app/settings/flows/{id}): answers typed in the box are kept here and the
// whole list is sent each time; the server replays the draft with the pure engine and answers
// with the turns. Nothing is stored or sent to anyone.
(function () {
  "use strict";
  var box = document.querySelector("[data-testid=flow-preview]");
  if (!box) return;
  var list = box.querySelector(".flow-transcript");
  var stateLine = box.querySelector("[data-testid=flow-preview-state]");
  var form = box.querySelector(".flow-preview-form");
  var input = form.querySelector("input");
  var answers = [];

  function turn(t) {
    var li = document.createElement("li");
    li.className = "flow-turn flow-turn-" + t.from;
    var p = document.createElement("p");
    p.textContent = t.text;
    li.appendChild(p);
    if (t.options && t.options.length) {
      var ul = document.createElement("ul");
      ul.className = "flow-options";
      t.options.forEach(function (o, i) {
        var b = document.createElement("button");
        b.type = "button";
        b.className = "btn btn-small";
        b.textContent = (i + 1) + ". " + o;
        b.addEventListener("click", function () { send(o); });
        var item = document.createElement("li");
        item.appendChild(b);
        ul.appendChild(item);
      });
      li.appendChild(ul);
    }
    return li;
  }

  function show(data) {
    list.textContent = "";
    (data.problems || []).forEach(function (p) {
      list.appendChild(turn({ from: "note", text: p }));
    });
    data.turns.forEach(function (t) { list.appendChild(turn(t)); });
    stateLine.textContent = data.state;
    input.disabled = !data.running;
  }

  function run() {
    var body = new URLSearchParams();
    body.set("csrf_token", box.dataset.csrf);
    body.set("answers", JSON.stringify(answers));
    fetch(box.dataset.url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: body.toString()
    }).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) show(data); });
  }

  function send(text) {
    answers.push(text);
    run();
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var v = input.value;
    input.value = "";
    send(v);
  });
  box.querySelector("[data-preview-reset]").addEventListener("click", function () {
    answers = [];
    run();
  });
  run();
})();
