// Service-level badges (返信期限 / 解決期限, templates/inbox/_sla_badge.html): each turns amber at
// its warning instant and red at its deadline without a reload. Time counts from the server's
// clock at render (data-sla-now) plus what has passed here since, so a browser whose clock is
// off still flips at the right moment. The words come from the page ([data-sla-words]).
(function () {
  "use strict";
  var seen = new WeakMap();

  function duration(ms, w) {
    var m = Math.max(1, Math.ceil(Math.max(0, ms) / 60000));
    if (m < 60) return w.minutes.replace("{m}", m);
    if (m < 1440) {
      var h = Math.floor(m / 60), r = m % 60;
      return r === 0 ? w.hours.replace("{h}", h) : w.hoursMinutes.replace("{h}", h).replace("{m}", r);
    }
    return w.days.replace("{d}", Math.floor(m / 1440));
  }

  function tick() {
    var holder = document.querySelector("[data-sla-words]");
    if (!holder) return;
    var w = holder.dataset, wall = Date.now();
    document.querySelectorAll("[data-sla-due]").forEach(function (b) {
      if (!seen.has(b)) seen.set(b, wall);
      var d = b.dataset;
      var now = Number(d.slaNow) + (wall - seen.get(b));
      var due = Number(d.slaDue);
      var warn = d.slaWarn ? Number(d.slaWarn) : null;
      var level, text;
      if (now >= due) {
        level = "breached";
        text = d.slaBreached.replace("{duration}", duration(now - due, w));
      } else if (warn !== null && now >= warn) {
        level = "warning";
        text = d.slaWarning.replace("{duration}", duration(due - now, w));
      } else {
        level = "ok";
        text = d.slaOk.replace("{time}", d.slaTime);
      }
      if (d.slaLevel !== level) {
        b.classList.remove("sla-" + d.slaLevel);
        b.classList.add("sla-" + level);
        d.slaLevel = level;
      }
      if (b.textContent !== text) b.textContent = text;
      // A quiet clock (the row's resolution clock while a reply is awaited) shows once it matters.
      if (d.slaQuiet) b.hidden = level === "ok";
    });
  }

  document.addEventListener("DOMContentLoaded", tick);
  setInterval(tick, 15000);
})();
