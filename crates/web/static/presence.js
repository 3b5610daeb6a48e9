// tsunagu staff UI — the open conversation's comforts beside app.js: the collision warning
// (who else is viewing or typing), reply drafts kept in this browser, and keyboard shortcuts.
// Wired from data- attributes (the CSP forbids inline scripts); pages work without it.
(function () {
  'use strict';

  function ready(fn) {
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', fn);
    else fn();
  }

  // --- collision warning: beat every 10 s (and while typing), show who else is here -----------
  function presence() {
    var banner = document.querySelector('[data-presence]');
    if (!banner || !window.fetch) return;
    var url = banner.getAttribute('data-presence');
    var csrf = banner.getAttribute('data-csrf') || '';
    var text = document.getElementById('reply-text');
    var lastTyping = 0;

    function show() {
      fetch(url, { credentials: 'same-origin', headers: { 'X-Tsunagu-Live': '1' } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (j) {
          if (!j) return;
          banner.replaceChildren();
          j.lines.forEach(function (line) {
            var span = document.createElement('span');
            span.textContent = line;
            banner.appendChild(span);
          });
          banner.hidden = j.lines.length === 0;
          banner.classList.toggle('is-typing', j.others.some(function (o) { return o.state === 'typing'; }));
        })
        .catch(function () {});
    }
    function beat(state) {
      var body = new URLSearchParams({ csrf_token: csrf, state: state });
      return fetch(url, { method: 'POST', credentials: 'same-origin', body: body,
        headers: { 'X-Tsunagu-Live': '1' } })
        .then(show, function () {});
    }
    function tick() {
      if (document.visibilityState === 'hidden') return;
      beat(lastTyping > Date.now() - 5000 ? 'typing' : 'viewing');
    }
    beat('viewing');
    setInterval(tick, 10000);
    document.addEventListener('visibilitychange', tick);
    if (text) {
      text.addEventListener('input', function () {
        // At most one typing beat every 3 s.
        var now = Date.now();
        if (now - lastTyping > 3000) beat('typing');
        lastTyping = now;
      });
    }
    // app.js passes on the live stream's presence events for this conversation.
    document.addEventListener('tsunagu:presence', show);
  }

  // --- drafts: the reply box's text survives switching conversations and reloading -------------
  function drafts() {
    var form = document.querySelector('form[data-draft-key]');
    var text = form && form.querySelector('textarea[name=text]');
    if (!text || !window.localStorage) return;
    var key = form.getAttribute('data-draft-key');
    try {
      var saved = localStorage.getItem(key);
      // Text the server sent back (a refused send) wins over the draft.
      if (saved && text.value === '' && !text.disabled) text.value = saved;
    } catch (_) { return; }
    text.addEventListener('input', function () {
      try {
        if (text.value === '') localStorage.removeItem(key);
        else localStorage.setItem(key, text.value);
      } catch (_) {}
    });
    form.addEventListener('submit', function (e) {
      if (e.defaultPrevented) return;
      try { localStorage.removeItem(key); } catch (_) {}
    });
  }

  // --- keyboard: j/k next/previous, a assign to me, e resolve, r reply, ? the list -------------
  function typingInField(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || el.isContentEditable;
  }
  function click(selector) {
    var b = document.querySelector(selector);
    if (b && !b.disabled) { b.click(); return true; }
    return false;
  }
  function move(step) {
    var links = Array.prototype.slice.call(
      document.querySelectorAll('#inbox-list [data-testid="inbox-item"] a[href]'));
    if (!links.length) return;
    var at = -1;
    links.forEach(function (a, i) {
      if (a.closest('.is-current')) at = i;
    });
    var next = links[Math.min(Math.max(at + step, 0), links.length - 1)];
    if (at === -1) next = links[0];
    if (next && (at === -1 || next !== links[at])) location.href = next.href;
  }
  function keys() {
    var help = document.getElementById('shortcuts');
    document.addEventListener('keydown', function (e) {
      if (e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
      if (typingInField(e.target)) return;
      if (help && help.open) return;
      var done = true;
      switch (e.key) {
        case 'j': move(1); break;
        case 'k': move(-1); break;
        case 'a': done = click('[data-testid="assign-me"]'); break;
        case 'e': done = click('[data-testid="state-resolve"]'); break;
        case 'r':
          var t = document.getElementById('reply-text');
          if (t && !t.disabled) t.focus(); else done = false;
          break;
        case '?':
          if (help && help.showModal) help.showModal(); else done = false;
          break;
        default: done = false;
      }
      if (done) e.preventDefault();
    });
  }

  // --- bulk: count the checked rows, keep them checked when the live list is swapped in --------
  function bulk() {
    var list = document.getElementById('inbox-list');
    if (!list) return;
    var checked = {};
    function sync() {
      var bar = list.querySelector('[data-bulk]');
      list.querySelectorAll('[data-testid="bulk-check"]').forEach(function (c) {
        if (checked[c.value]) c.checked = true;
      });
      if (!bar) return;
      var n = list.querySelectorAll('[data-testid="bulk-check"]:checked').length;
      var count = bar.querySelector('[data-bulk-count]');
      if (!count.hasAttribute('data-hint')) count.setAttribute('data-hint', count.textContent);
      count.textContent = n > 0
        ? bar.getAttribute('data-selected-text').replace('{n}', String(n))
        : count.getAttribute('data-hint');
      bar.querySelectorAll('button[name=action]').forEach(function (b) { b.disabled = n === 0; });
    }
    list.addEventListener('change', function (e) {
      var c = e.target;
      if (!c || c.getAttribute('data-testid') !== 'bulk-check') return;
      if (c.checked) checked[c.value] = true; else delete checked[c.value];
      sync();
    });
    // app.js replaces the list on live events: put the checks back.
    new MutationObserver(sync).observe(list, { childList: true });
    sync();
  }

  ready(function () {
    presence();
    drafts();
    keys();
    bulk();
  });
})();
