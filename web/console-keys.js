// Keyboard and confirmations for the agent console: Enter sends (Shift+Enter
// is a new line, an IME composition is left alone), Alt+N takes the next
// chat, Alt+R resolves, Alt+1…9 / Alt+←→ switch chats; the list is shown
// under 快捷键 (from GET /api/labels). Resolve, transfer and hand back ask
// first in the page itself (not window.confirm, which a browser may block).
(function () {
  "use strict";
  var K = window.KefuConsole, $ = K.$;

  K.confirm = function (text) {
    return new Promise(function (resolve) {
      var box = $("confirm"), back = document.activeElement;
      $("confirm-text").textContent = text;
      box.hidden = false;
      $("confirm-ok").focus();
      function done(answer) {
        box.hidden = true;
        $("confirm-ok").onclick = $("confirm-cancel").onclick = box.onkeydown = null;
        if (back && back.focus) back.focus();
        resolve(answer);
      }
      $("confirm-ok").onclick = function () { done(true); };
      $("confirm-cancel").onclick = function () { done(false); };
      box.onkeydown = function (e) {
        if (e.key === "Escape") { e.preventDefault(); done(false); }
        if (e.key === "Tab") {  // keep the keyboard inside the question
          e.preventDefault();
          (document.activeElement === $("confirm-ok") ? $("confirm-cancel") : $("confirm-ok")).focus();
        }
      };
    });
  };

  $("reply").addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      K.send();
    }
  });

  function switchTo(index) {
    var id = K.state.order[index];
    if (id) K.openChat(id);
  }

  document.addEventListener("keydown", function (e) {
    if (!e.altKey || e.ctrlKey || e.metaKey || $("app").hidden || !$("confirm").hidden) return;
    var key = e.key.toLowerCase(), code = e.code || "";
    var order = K.state.order, at = order.indexOf(K.state.active);
    if (key === "n" || code === "KeyN") { e.preventDefault(); K.claimNext(); }
    else if (key === "r" || code === "KeyR") { e.preventDefault(); K.resolve(); }
    else if (/^Digit[1-9]$/.test(code)) { e.preventDefault(); switchTo(Number(code.slice(5)) - 1); }
    else if (key === "arrowright" && order.length) { e.preventDefault(); switchTo((at + 1) % order.length); }
    else if (key === "arrowleft" && order.length) { e.preventDefault(); switchTo((at - 1 + order.length) % order.length); }
  });

  $("take-next").addEventListener("click", function () { K.claimNext(); });
  $("shortcuts-toggle").addEventListener("click", function () {
    var open = $("shortcuts").hidden;
    $("shortcuts").hidden = !open;
    this.setAttribute("aria-expanded", open ? "true" : "false");
  });
  K.hooks.login = function () {
    var dl = $("shortcut-list");
    dl.textContent = "";
    (K.L.shortcuts || []).forEach(function (s) {
      dl.appendChild(K.el("dt", "", s.keys));
      dl.appendChild(K.el("dd", "", s.action));
    });
  };

  K.start();
})();
