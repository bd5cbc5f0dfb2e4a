// The agent console's composer: standard scripts, the forbidden-phrase check
// (a 服务忌语 blocks sending; the bridge refuses it too), one send at a time
// with an idempotency key, and resolve / transfer / hand back after a
// confirmation. Uses window.KefuConsole from console.js.
(function () {
  "use strict";
  var K = window.KefuConsole, L = K.L, el = K.el, $ = K.$, msg = K.msg, state = K.state, API = K.API, notice = K.notice;
  var forget = K.forget, refreshQueue = K.refreshQueue;

  // ---- composer ---------------------------------------------------------------
  // The scripts panel is web/scripts.js (search, categories, asking for a script's variables).
  function loadScripts() {
    return KefuScripts.attach({
      call: API.call,
      ticket: function () { return state.chats[state.active] || {}; },
      insert: function (text) { $("reply").value = text; checkReply(); $("reply").focus(); }
    }).then(function (data) { state.forbidden = data.forbidden || []; });
  }

  // A forbidden phrase blocks sending (the bridge refuses it too); 你 is a warning.
  function checkReply() {
    var text = $("reply").value;
    var problems = [];
    var blocked = false;
    state.forbidden.forEach(function (f) {
      if (text.indexOf(f.phrase) >= 0) { blocked = true; problems.push(msg("forbidden_item", f)); }
    });
    if (/你(?!们)/.test(text)) problems.push(msg("you_warning"));
    problems = problems.concat(KefuScripts.problems(text));  // an unfilled {variable}: the bridge refuses it too
    state.blocked = blocked;
    $("reply-warning").hidden = !problems.length;
    $("reply-warning").textContent = (blocked ? msg("forbidden_blocks") : "") + problems.join(";");
    $("reply-warning").className = "warning" + (blocked ? " blocking" : "");
    updateSend();
  }
  K.checkReply = checkReply;
  function updateSend() {
    $("send").disabled = state.sending || state.blocked;
    $("send").textContent = msg(state.sending ? "sending" : "send");
  }
  $("reply").addEventListener("input", function () { state.pending = null; checkReply(); });

  function ticketAction(path, body) {
    return API.call("POST", "/api/tickets/" + encodeURIComponent(state.active) + path, body);
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID().replace(/-/g, "");
    return String(Date.now()) + Math.random().toString(36).slice(2, 12);
  }

  // One send at a time; the same text retried keeps its idempotency key, so a
  // slow or lost answer never makes the customer read it twice.
  function send() {
    var text = $("reply").value.trim();
    if (!text || !state.active || state.sending || state.blocked) return;
    if (!state.pending || state.pending.text !== text) state.pending = { text: text, client_id: newKey() };
    var id = state.active;
    state.sending = true;
    updateSend();
    ticketAction("/messages", { text: text, client_id: state.pending.client_id }).then(function (res) {
      state.pending = null;
      delete state.drafts[id];
      if (state.active === id) { $("reply").value = ""; checkReply(); }
      if (res.duplicate) notice(msg("sent_twice"));
    }).catch(function (err) {
      if (err.code !== "network") state.pending = null;  // only a network failure may be the same send again
      notice(msg("send_failed") + err.message);
    }).then(function () { state.sending = false; updateSend(); });
  }
  K.send = send;
  $("send").addEventListener("click", send);

  function closeChat(path, body) {
    var id = state.active;
    state.chats[id].closing = true;
    return ticketAction(path, body).then(function () {
      forget(id);
      refreshQueue();
    }).catch(function (err) {
      if (state.chats[id]) state.chats[id].closing = false;
      notice(msg("action_failed") + err.message);
    });
  }
  K.resolve = function () {
    if (!state.active) return;
    K.confirm(msg("confirm_resolve")).then(function (yes) { if (yes) closeChat("/resolve"); });
  };
  $("resolve").addEventListener("click", K.resolve);
  $("transfer").addEventListener("click", function () {
    var select = $("transfer-to"), to = select.value;
    if (!to) { select.focus(); return; }
    K.confirm(msg("confirm_transfer", { target: select.options[select.selectedIndex].text })).then(function (yes) {
      if (yes) closeChat("/transfer", to.indexOf("skill:") === 0 ? { skill: to.slice(6) } : { agent_id: to });
    });
  });
  $("handback").addEventListener("click", function () {
    var select = $("handback-flow"), flow = select.value;
    if (!flow) { select.focus(); return; }
    K.confirm(msg("confirm_handback", { flow: L.flows[flow] || flow })).then(function (yes) {
      if (yes) closeChat("/handback", { flow: flow });
    });
  });

  K.loadScripts = loadScripts;
})();
