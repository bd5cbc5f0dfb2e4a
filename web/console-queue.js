// The agent console's queue and alerts: the live queue with wait time and SLA
// countdown (updated in place every second), claim buttons that keep the
// keyboard focus across re-renders, and a sound plus the page title for
// every new chat, P0 ticket and customer reply. Loaded after console.js,
// through window.KefuConsole; all text set with textContent.
(function () {
  "use strict";
  var K = window.KefuConsole, L = K.L, state = K.state, API = K.API, msg = K.msg, el = K.el, $ = K.$;

  // ---- alerts: sound and title for every new chat and reply ------------------
  var audio = null;
  function beep(freq, kind) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var osc = audio.createOscillator();
      osc.frequency.value = freq;
      osc.connect(audio.destination);
      osc.start();
      osc.stop(audio.currentTime + 0.25);
    } catch (e) { /* no audio device: the title and the badges still show */ }
    document.body.dataset[kind] = String(Number(document.body.dataset[kind] || 0) + 1);
  }
  K.beep = beep;
  function updateTitle() {
    var unread = 0;
    Object.keys(state.chats).forEach(function (id) { unread += state.chats[id].unread || 0; });
    var head = document.body.dataset.p0 === "1" ? msg("title_p0") : state.newChat ? "【" + msg("new_chat") + "】" : "";
    document.title = head + (unread ? "(" + unread + ")" : "") + msg("title");
  }
  K.updateTitle = updateTitle;
  K.clearAlerts = function () { document.body.dataset.p0 = ""; state.newChat = false; updateTitle(); };

  // ---- queue ---------------------------------------------------------------
  function refreshQueue() {
    return API.call("GET", "/api/queue").then(function (data) {
      var before = {};
      state.queue.forEach(function (t) { before[t.id] = true; });
      var first = !state.queueLoaded;
      state.queueLoaded = true;
      state.queue = data.tickets || [];
      var fresh = first ? [] : state.queue.filter(function (t) { return !before[t.id]; });
      renderQueue();
      if (fresh.some(function (t) { return t.priority === "P0"; })) {
        document.body.dataset.p0 = "1"; beep(880, "p0Sound");
      } else if (fresh.length) {
        state.newChat = true; beep(660, "chatSound");
      }
      if (first && state.queue.some(function (t) { return t.priority === "P0"; })) document.body.dataset.p0 = "1";
      updateTitle();
    });
  }
  K.refreshQueue = refreshQueue;

  function formatSeconds(s) {
    var m = Math.floor(s / 60);
    return m ? msg("duration_m", { m: m, s: s % 60 }) : msg("duration_s", { s: s });
  }

  function renderQueue() {
    var list = $("queue");
    // keep the keyboard where it was: the same ticket's button after the re-render
    var focused = document.activeElement && list.contains(document.activeElement) ? document.activeElement.dataset.ticket : null;
    var focusedIndex = focused ? state.renderedIds.indexOf(focused) : -1;
    list.textContent = "";
    $("queue-count").textContent = state.queue.length;
    if (!state.queue.length) list.appendChild(el("li", "queue-empty", msg("queue_empty")));
    state.renderedIds = state.queue.map(function (t) { return t.id; });
    state.queue.forEach(function (t) {
      var li = el("li", "ticket " + t.priority + (t.eligible === false ? " ineligible" : ""));
      li.dataset.ticket = t.id;
      li.dataset.priority = t.priority;
      var row = el("div", "row");
      row.appendChild(el("span", "pri", L.priorities[t.priority] || t.priority));
      row.appendChild(el("span", "wait"));
      row.appendChild(el("span", "sla"));
      li.appendChild(row);
      li.appendChild(el("div", "summary", t.summary));
      li.appendChild(el("div", "sub", msg("card_sub", { reason: L.reasons[t.reason] || t.reason,
        intents: K.intents(t.intents, L.reasons[t.reason]) || "—", customer: t.customer })));
      var why = "";
      if (t.eligible === false) {
        why = t.reserved ? msg("reserved") : msg("ineligible", { skill: L.skills[t.required_skill] || t.required_skill });
        li.appendChild(el("div", "why", why));
      }
      var claim = el("button", "claim", msg("claim"));
      claim.dataset.ticket = t.id;
      claim.setAttribute("aria-label", msg("claim_label", { priority: L.priorities[t.priority] || t.priority, customer: t.customer,
        summary: t.summary || "", why: why ? "(" + why + ")" : "" }));
      claim.addEventListener("click", function () { K.claimTicket(t.id); });
      li.appendChild(claim);
      list.appendChild(li);
    });
    if (focused) {
      var again = list.querySelector("button.claim[data-ticket='" + focused + "']") ||
        list.querySelectorAll("button.claim")[Math.min(Math.max(focusedIndex, 0), state.queue.length - 1)];
      (again || $("take-next")).focus();
    }
    tickQueue();
  }
  state.renderedIds = [];

  // Wait time and SLA countdown, updated in place every second.
  function tickQueue() {
    var byId = {};
    state.queue.forEach(function (t) { byId[t.id] = t; });
    Array.prototype.forEach.call($("queue").querySelectorAll("li.ticket"), function (li) {
      var t = byId[li.dataset.ticket];
      if (!t) return;
      var waited = Math.round((Date.now() - new Date(t.created_at).getTime()) / 1000);
      li.querySelector(".wait").textContent = msg("waited", { t: formatSeconds(Math.max(waited, 0)) });
      var left = Math.round((new Date(t.sla_deadline).getTime() - Date.now()) / 1000);
      var node = li.querySelector(".sla");
      node.textContent = left < 0 ? msg("sla_over", { t: formatSeconds(-left) }) : msg("sla_left", { t: formatSeconds(left) });
      node.className = "sla" + (left < 0 ? " breached" : "");
      li.classList.toggle("breached", left < 0);
    });
  }

  setInterval(function () { if (!$("app").hidden) tickQueue(); }, 1000);
})();
