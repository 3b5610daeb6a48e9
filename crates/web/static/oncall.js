// The header's on-call badge (オンコール): how many urgent conversations I was called to that
// nobody has opened, linking to the newest. app.js forwards the live event `oncall.alert` as
// `tsunagu:oncall`; the server answers for me only, with a count and a link (no names, no
// words), so the browser notification says nothing of what the patient wrote.
(function () {
  'use strict';
  var last = null;

  function refresh(notify) {
    var link = document.querySelector('[data-oncall-src]');
    if (!link) return;
    fetch(link.getAttribute('data-oncall-src'), { credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (j) {
        if (!j) return;
        var badge = link.querySelector('[data-oncall-badge]');
        if (badge) badge.textContent = String(j.count);
        link.hidden = j.count === 0;
        if (j.href) link.setAttribute('href', j.href);
        var before = last;
        last = j.count;
        if (notify && before !== null && j.count > before && j.href &&
            'Notification' in window && Notification.permission === 'granted') {
          var ja = document.documentElement.lang === 'ja';
          var n = new Notification(ja ? '緊急の可能性があるメッセージ' : 'A message may be urgent', {
            body: ja ? 'オンコール当番です。tsunagu を開いて確認してください。' : 'You are on call. Open tsunagu now.',
            tag: 'tsunagu-oncall',
            requireInteraction: true
          });
          var href = j.href;
          n.onclick = function () { window.focus(); window.location.href = href; };
        }
      })
      .catch(function () {});
  }

  document.addEventListener('tsunagu:oncall', function () { refresh(true); });
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', function () { refresh(false); });
  } else {
    refresh(false);
  }
})();
