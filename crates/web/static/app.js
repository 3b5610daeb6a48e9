// tsunagu staff UI — the only script. The CSP forbids inline scripts and handlers, so every
// behaviour is wired here from data- attributes. Pages work without it; it adds live updates,
// keyboard sending and small comforts.
(function () {
  'use strict';

  document.documentElement.classList.add('js');

  function ready(fn) {
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', fn);
    else fn();
  }

  // --- clinic switcher: submit as soon as another clinic is chosen -----------------------------
  function autosubmit() {
    document.querySelectorAll('select[data-autosubmit]').forEach(function (select) {
      select.addEventListener('change', function () {
        var form = select.form;
        if (!form) return;
        if (form.requestSubmit) form.requestSubmit();
        else form.submit();
      });
    });
  }

  // --- reply box: Enter = new line, Ctrl/⌘+Enter = send, no double sends ------------------------
  function replyBox() {
    var form = document.querySelector('form[data-reply-form]');
    if (!form) return;
    var text = form.querySelector('textarea[name=text]');
    var send = form.querySelector('button[type=submit]');
    if (!text) return;
    text.addEventListener('keydown', function (e) {
      // While an IME is composing (Japanese input), Enter confirms the conversion.
      if (e.isComposing || e.keyCode === 229) return;
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        if (form.requestSubmit) form.requestSubmit(send || undefined);
        else form.submit();
      }
    });
    var sending = false;
    form.addEventListener('submit', function (e) {
      if (sending || text.value.trim() === '') {
        e.preventDefault();
        text.focus();
        return;
      }
      sending = true;
      // Disable after the browser has collected the form data.
      setTimeout(function () { if (send) send.disabled = true; }, 0);
    });
    if (text.hasAttribute('autofocus')) {
      text.focus();
      text.setSelectionRange(text.value.length, text.value.length);
    }
  }

  // --- the message pane stays pinned to the newest message ------------------------------------
  var messages = null;
  var pinned = true;

  function atBottom(el) {
    return el.scrollHeight - el.scrollTop - el.clientHeight < 48;
  }
  function toBottom() {
    if (messages) messages.scrollTop = messages.scrollHeight;
  }
  function messagePane() {
    messages = document.getElementById('messages');
    if (!messages) return;
    toBottom();
    messages.addEventListener('scroll', function () { pinned = atBottom(messages); }, { passive: true });
    // Images arrive after the layout: keep the bottom in view while they load.
    messages.addEventListener('load', function () { if (pinned) toBottom(); }, true);
  }

  // --- live updates over SSE -------------------------------------------------------------------
  function live() {
    var root = document.querySelector('[data-live-src]');
    if (!root || !window.EventSource || !window.fetch || !window.DOMParser) return;
    var list = document.getElementById('inbox-list');
    var view = document.querySelector('[data-testid="conversation-view"]');
    var openId = view ? view.getAttribute('data-conversation-id') : null;
    var toastEl = document.querySelector('[data-testid="toast"]');
    var toastText = root.getAttribute('data-toast-text') || '';
    var baseTitle = document.title;
    var unread = readUnread();
    var want = { list: false, messages: false, toast: false, chrome: false };
    var timer = null;
    var busy = false;
    var toastTimer = null;

    function readUnread() {
      var el = list && list.querySelector('[data-unread-total]');
      var n = el ? parseInt(el.getAttribute('data-unread-total'), 10) : 0;
      return isNaN(n) ? 0 : n;
    }
    function updateTitle() {
      document.title = unread > 0 ? '(' + unread + ') ' + baseTitle : baseTitle;
    }
    function lastInboundId() {
      if (!messages) return null;
      var all = messages.querySelectorAll('[data-testid="message"][data-direction="in"]');
      return all.length ? all[all.length - 1].getAttribute('data-message-id') : null;
    }
    function showToast() {
      if (!toastEl) return;
      toastEl.textContent = toastText;
      toastEl.hidden = false;
      clearTimeout(toastTimer);
      toastTimer = setTimeout(function () { toastEl.hidden = true; }, 4000);
    }

    // Fetches a server-rendered fragment and swaps it in. The HTML is our own escaped template
    // output, parsed inertly by DOMParser (scripts in it would not run) and moved in as nodes.
    function swap(container, name) {
      var url = container.getAttribute('data-fragment');
      if (!url) return Promise.resolve(false);
      return fetch(url, { credentials: 'same-origin', headers: { 'X-Tsunagu-Live': '1' } })
        .then(function (res) {
          var expected = new URL(url, location.href).pathname;
          if (res.status === 401 || (res.redirected && new URL(res.url).pathname !== expected)) {
            // Signed out (idle, elsewhere): let the server send us to the sign-in page.
            location.reload();
            return false;
          }
          if (!res.ok) return false;
          return res.text().then(function (html) {
            var doc = new DOMParser().parseFromString(html, 'text/html');
            var fresh = doc.querySelector('[data-fragment-root="' + name + '"]');
            if (!fresh) return false;
            var focusedId = null;
            var active = document.activeElement;
            if (active && container.contains(active)) {
              var item = active.closest('[data-conversation-id]');
              focusedId = item && item.getAttribute('data-conversation-id');
            }
            container.replaceChildren(document.adoptNode(fresh));
            if (focusedId) {
              var again = container.querySelector('[data-conversation-id="' + focusedId + '"] a');
              if (again) again.focus();
            }
            return true;
          });
        })
        .catch(function () { return false; });
    }

    // The open conversation's state bar and assignment, from a fresh render of this page; left
    // alone while the person is using them (focus inside).
    function swapChrome() {
      return fetch(location.href, { credentials: 'same-origin', headers: { 'X-Tsunagu-Live': '1' } })
        .then(function (res) { return res.ok && !res.redirected ? res.text() : null; })
        .then(function (html) {
          if (!html) return;
          var doc = new DOMParser().parseFromString(html, 'text/html');
          ['conv-state', 'assignment'].forEach(function (id) {
            var old = document.querySelector('[data-testid="' + id + '"]');
            var fresh = doc.querySelector('[data-testid="' + id + '"]');
            if (old && fresh && !old.contains(document.activeElement)) old.replaceWith(document.adoptNode(fresh));
          });
        })
        .catch(function () {});
    }

    function refresh() {
      if (busy) { schedule(); return; }
      busy = true;
      var job = want;
      want = { list: false, messages: false, toast: false, chrome: false };
      var beforeUnread = unread;
      var beforeInbound = lastInboundId();
      var wasPinned = messages ? atBottom(messages) : false;
      // The open conversation first: fetching it marks it read, so the list then shows it read.
      var step = job.messages && messages ? swap(messages, 'messages') : Promise.resolve(false);
      if (job.chrome) step = step.then(function (swapped) { return swapChrome().then(function () { return swapped; }); });
      step
        .then(function (swapped) {
          if (swapped && wasPinned) toBottom();
          return job.list && list ? swap(list, 'list') : false;
        })
        .then(function (swapped) {
          if (swapped) {
            unread = readUnread();
            updateTitle();
          }
          var fresh = unread > beforeUnread || lastInboundId() !== beforeInbound;
          if (job.toast && fresh) showToast();
        })
        .then(function () { busy = false; }, function () { busy = false; });
    }

    // Several events in a burst become one refresh.
    function schedule() {
      clearTimeout(timer);
      timer = setTimeout(refresh, 150);
    }

    function connect() {
      var opened = false;
      var es = new EventSource(root.getAttribute('data-live-src'));
      es.addEventListener('open', function () {
        // After a reconnect we may have missed events: reload what the page shows.
        if (opened) { want.list = true; want.messages = !!openId; schedule(); }
        opened = true;
      });
      es.addEventListener('inbox', function (e) {
        var ev;
        try { ev = JSON.parse(e.data); } catch (_) { return; }
        // Someone opened or typed in a conversation: only its banner changes (presence.js).
        if (ev.kind === 'presence.changed') {
          if (ev.conversation_id === openId) document.dispatchEvent(new CustomEvent('tsunagu:presence'));
          return;
        }
        want.list = true;
        if (openId && ev.conversation_id === openId) want.messages = true;
        if (ev.kind === 'message.created') want.toast = true;
        // State, priority, labels or assignment changed elsewhere: refresh the bars showing them.
        if (openId && ev.conversation_id === openId && ev.kind === 'conversation.updated') want.chrome = true;
        if (ev.kind === 'note.mention') refreshMentions(true);
        if (ev.kind === 'oncall.alert') refreshOncall(true);
        schedule();
      });
      // Events were lost (this page fell behind, the server's database connection dropped):
      // reload the list and the open conversation.
      es.addEventListener('resync', function () {
        want.list = true;
        want.messages = !!openId;
        schedule();
      });
      es.addEventListener('error', function () {
        if (es.readyState !== EventSource.CLOSED) return; // the browser retries by itself
        // Refused (signed out?) or the server went away: check, then try again later.
        setTimeout(function () {
          want.list = true;
          schedule();
          connect();
        }, 10000);
      });
    }

    updateTitle();
    connect();
  }

  // --- notes: @name buttons, and the header's メンション badge -----------------------------------
  // The badge asks the server for a count only (no names, no words); when it grows, a browser
  // notification says so without saying what the note says.
  function noteMentions() {
    var text = document.getElementById('note-text');
    document.querySelectorAll('[data-mention]').forEach(function (b) {
      b.addEventListener('click', function () {
        if (!text) return;
        var at = text.selectionStart || text.value.length;
        var word = '@' + b.getAttribute('data-mention') + ' ';
        text.value = text.value.slice(0, at) + word + text.value.slice(at);
        text.focus();
        text.selectionStart = text.selectionEnd = at + word.length;
      });
    });
    var enable = document.querySelector('[data-enable-notifications]');
    if (enable && 'Notification' in window && Notification.permission === 'default') {
      enable.hidden = false;
      enable.addEventListener('click', function () {
        Notification.requestPermission().then(function () { enable.hidden = true; });
      });
    }
  }

  function refreshMentions(maybeNotify) {
    var link = document.querySelector('[data-mentions-count]');
    var badge = document.querySelector('[data-mentions-badge]');
    if (!link || !badge) return;
    var before = parseInt(badge.textContent, 10) || 0;
    fetch(link.getAttribute('data-mentions-count'), { credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (j) {
        if (!j) return;
        badge.textContent = String(j.unseen);
        badge.hidden = j.unseen === 0;
        if (maybeNotify && j.unseen > before && 'Notification' in window &&
            Notification.permission === 'granted') {
          var n = new Notification(document.documentElement.lang === 'ja' ? 'メンションされました' : 'You were mentioned', {
            body: document.documentElement.lang === 'ja' ? 'tsunagu を開いて確認してください。' : 'Open tsunagu to see it.',
            tag: 'tsunagu-mention'
          });
          n.onclick = function () { window.focus(); window.location.href = '/app/mentions'; };
        }
      })
      .catch(function () {});
  }

  // --- the header's オンコール badge: urgent conversations I was called to that nobody opened --
  // The server answers for me only, with a count and a link (no names, no words), so the browser
  // notification says nothing of what the patient wrote.
  var oncallLast = null;
  function refreshOncall(maybeNotify) {
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
        var before = oncallLast;
        oncallLast = j.count;
        if (maybeNotify && before !== null && j.count > before && j.href &&
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

  // --- a profile picture that cannot load leaves the initial beneath it visible -----------------
  function pictures() {
    document.querySelectorAll('img[data-hide-on-error]').forEach(function (img) {
      function hide() { img.hidden = true; }
      if (img.complete && img.naturalWidth === 0) hide();
      else img.addEventListener('error', hide);
    });
  }

  // --- a destructive form asks first, naming what will be lost (data-confirm) -------------------
  function confirmations() {
    document.addEventListener('submit', function (e) {
      var form = e.target;
      var words = form && form.getAttribute && form.getAttribute('data-confirm');
      if (words && !window.confirm(words)) e.preventDefault();
    }, true);
  }

  // --- an error page's 前のページに戻る: shown only when the tab has a page to go back to ----------
  function historyBack() {
    document.querySelectorAll('a[data-history-back]').forEach(function (a) {
      if (window.history.length < 2) return;
      a.hidden = false;
      a.addEventListener('click', function (e) {
        e.preventDefault();
        window.history.back();
      });
    });
  }

  ready(function () {
    historyBack();
    confirmations();
    pictures();
    autosubmit();
    replyBox();
    messagePane();
    noteMentions();
    refreshOncall(false);
    live();
  });
})();
