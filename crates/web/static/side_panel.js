// The patient panel beside a conversation: open as a column on wide screens, folded on narrow
// ones (the CSS breakpoint below must match app.css's .has-side-panel rule).
(function () {
  var panel = document.querySelector("[data-side-panel]");
  if (!panel || !window.matchMedia) return;
  var wide = window.matchMedia("(min-width: 1280px)");
  function sync() { panel.open = wide.matches; }
  sync();
  wide.addEventListener("change", sync);
})();
