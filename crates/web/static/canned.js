// tsunagu staff UI — the reply box's canned-response picker (定型文). Typing "/" at the start of
// the box or after a space lists the clinic's canned responses under the box, filtered by what
// follows; up/down, Enter and Esc or the mouse choose one, and the "/query" is replaced by its
// body, filled in for this conversation by the server. Separate from app.js (CSP: no inline
// script); events are delegated, so a re-rendered reply box keeps working.
(function () {
  'use strict';

  // "/" and the full-width "／"; "・" is what the "/" key types in a Japanese IME.
  var TRIGGER = /(^|\s)([\/／・])([^\s\/／・]*)$/;
  var state = null; // { picker, text, start, end, items, active, timer, seq }

  function pickerFor(text) {
    var form = text.form;
    return form ? form.querySelector('[data-canned-picker]') : null;
  }

  function close() {
    if (!state) return;
    clearTimeout(state.timer);
    state.picker.hidden = true;
    state.text.removeAttribute('aria-activedescendant');
    state.text.setAttribute('aria-expanded', 'false');
    state = null;
  }

  function render() {
    var list = state.picker.querySelector('.canned-options');
    list.textContent = '';
    if (state.items.length === 0) {
      var none = document.createElement('li');
      none.className = 'canned-none';
      none.textContent = state.error ? state.picker.dataset.failed : state.picker.dataset.none;
      list.appendChild(none);
    }
    state.items.forEach(function (item, i) {
      var li = document.createElement('li');
      li.id = 'canned-option-' + i;
      li.className = 'canned-option';
      li.setAttribute('role', 'option');
      li.setAttribute('aria-selected', i === state.active ? 'true' : 'false');
      li.dataset.testid = 'canned-option';
      var head = document.createElement('span');
      head.className = 'canned-option-head';
      var title = document.createElement('strong');
      title.textContent = item.title;
      var shortcut = document.createElement('span');
      shortcut.className = 'canned-option-shortcut';
      shortcut.textContent = '/' + item.shortcut;
      head.appendChild(title);
      head.appendChild(shortcut);
      var body = document.createElement('span');
      body.className = 'canned-option-body';
      body.textContent = item.body;
      li.appendChild(head);
      li.appendChild(body);
      // mousedown, not click: the box keeps its focus and caret.
      li.addEventListener('mousedown', function (e) {
        e.preventDefault();
        choose(i);
      });
      list.appendChild(li);
    });
    state.picker.hidden = false;
    state.text.setAttribute('aria-expanded', 'true');
    if (state.items.length) {
      state.text.setAttribute('aria-activedescendant', 'canned-option-' + state.active);
      var act = list.children[state.active];
      if (act && act.scrollIntoView) act.scrollIntoView({ block: 'nearest' });
    } else {
      state.text.removeAttribute('aria-activedescendant');
    }
  }

  function load(query, trigger) {
    var s = state;
    var seq = (s.seq || 0) + 1;
    s.seq = seq;
    var url = s.picker.dataset.url + '?q=' + encodeURIComponent(query);
    fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (data) {
        if (state !== s || s.seq !== seq) return;
        s.items = data.items || [];
        s.error = false;
        s.active = 0;
        // "・" is also ordinary text: list only when something matches.
        if (trigger === '・' && s.items.length === 0) { close(); return; }
        render();
      })
      .catch(function () {
        if (state !== s || s.seq !== seq) return;
        s.items = [];
        s.error = true;
        render();
      });
  }

  function update(text) {
    var picker = pickerFor(text);
    if (!picker) return;
    var caret = text.selectionStart;
    if (caret !== text.selectionEnd) { close(); return; }
    var m = TRIGGER.exec(text.value.slice(0, caret));
    if (!m) { close(); return; }
    if (!state || state.text !== text) {
      close();
      state = { picker: picker, text: text, items: [], active: 0, error: false };
      text.setAttribute('aria-controls', 'canned-options');
    }
    state.start = caret - m[2].length - m[3].length;
    state.end = caret;
    clearTimeout(state.timer);
    var query = m[3];
    var trigger = m[2];
    state.timer = setTimeout(function () { if (state) load(query, trigger); }, 120);
  }

  function choose(i) {
    if (!state || !state.items[i]) return;
    var text = state.text;
    var body = state.items[i].body;
    var v = text.value;
    text.value = v.slice(0, state.start) + body + v.slice(state.end);
    var at = state.start + body.length;
    close();
    text.focus();
    text.setSelectionRange(at, at);
    // Others listening (the draft keeper, the send button) see the change as typing.
    text.dispatchEvent(new Event('input', { bubbles: true }));
  }

  function isReplyBox(el) {
    return el && el.tagName === 'TEXTAREA' && el.name === 'text' && pickerFor(el);
  }

  document.addEventListener('input', function (e) {
    if (isReplyBox(e.target)) update(e.target);
  });

  document.addEventListener('keydown', function (e) {
    if (!state || e.target !== state.text || state.picker.hidden) return;
    if (e.isComposing || e.keyCode === 229) return;
    var n = state.items.length;
    if (e.key === 'ArrowDown' && n) {
      e.preventDefault();
      state.active = (state.active + 1) % n;
      render();
    } else if (e.key === 'ArrowUp' && n) {
      e.preventDefault();
      state.active = (state.active - 1 + n) % n;
      render();
    } else if (e.key === 'Enter' && n && !e.ctrlKey && !e.metaKey && !e.shiftKey) {
      e.preventDefault();
      e.stopPropagation();
      choose(state.active);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      close();
    }
  }, true);

  document.addEventListener('focusout', function (e) {
    if (state && e.target === state.text) close();
  });
  document.addEventListener('click', function (e) {
    if (state && e.target !== state.text && !state.picker.contains(e.target)) close();
  });
})();
