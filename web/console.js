// Agent console: log in with a token, watch the live queue, claim, chat,
// resolve / transfer / hand back. All customer text is rendered with
// textContent (never innerHTML), so markup in a message shows as text.
// Every agent-facing name and message comes from GET /api/labels
// (handoff/labels.py); console-queue.js adds the queue and the alerts,
// console-composer.js the reply box, console-panel.js the customer panel and
// console-keys.js the keyboard and the confirmations, through window.KefuConsole.
(function () {
  "use strict";
  var K = window.KefuConsole = { hooks: { chat: [], message: [] } };
  var L = K.L = { priorities: {}, reasons: {}, intents: {}, sentiments: {}, skills: {}, flows: {}, messages: {}, shortcuts: [], pii: {},
                  roles: {}, panel: {}, outcomes: {} };
  function msg(name, vars) {
    return String(L.messages[name] || name).replace(/\{(\w+)\}/g, function (all, k) { return vars && vars[k] !== undefined ? vars[k] : all; });
  }
  K.msg = msg;
  var API = K.API = {
    token: sessionStorage.getItem("kefu.agentToken") || "",
    call: function (method, path, body) {
      return fetch(path, {
        method: method,
        headers: { "Authorization": "Bearer " + API.token, "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body)
      }).catch(function () {
        // fetch's own TypeError ("Failed to fetch") is no message for an agent
        var err = new Error(msg("network")); err.status = 0; err.code = "network"; throw err;
      }).then(function (resp) {
        return resp.json().catch(function () { return {}; }).then(function (data) {
          if (!resp.ok) {
            var err = new Error(data.detail || data.error || ("HTTP " + resp.status));
            err.status = resp.status; err.code = data.error || ""; throw err;
          }
          return data;
        });
      });
    }
  };
  var state = K.state = { me: null, queue: [], chats: {}, order: [], active: null, scripts: [], forbidden: [], lastEventId: "0",
                          ws: null, wsOpened: false, sending: false, pending: null, lease: 30, blocked: false };
  var $ = K.$ = function (id) { return document.getElementById(id); };

  var noticeTimer = null;
  function notice(text, kind) {
    var node = $("notice");
    node.textContent = text;
    node.className = "notice" + (kind ? " " + kind : "");
    node.hidden = false;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(function () { node.hidden = true; }, 8000);
  }
  K.notice = notice;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  K.el = el;
  function intents(list, reason) {
    var shown = (list || []).map(function (i) { return L.intents[i] || i; });
    return shown.filter(function (name, i) { return name !== reason && shown.indexOf(name) === i; }).join("、");
  }
  K.intents = intents;
  function time(ms) { return ms ? new Date(ms).toLocaleTimeString("zh-CN", { hour12: false }) : ""; }
  K.time = time;

  // ---- login -------------------------------------------------------------
  $("login-form").addEventListener("submit", function (event) {
    event.preventDefault();
    API.token = $("token").value.trim();
    login();
  });

  function applyLabels(labels) {
    Object.keys(labels).forEach(function (k) { L[k] = labels[k]; });
    var select = $("handback-flow");
    select.length = 1;
    Object.keys(L.flows).forEach(function (flow) {
      var option = el("option", "", L.flows[flow]);
      option.value = flow;
      select.appendChild(option);
    });
  }

  function login() {
    if (!API.token) return;
    API.call("GET", "/api/me").then(function (me) {
      state.me = me;
      sessionStorage.setItem("kefu.agentToken", API.token);
      return API.call("GET", "/api/labels");
    }).then(function (labels) {
      applyLabels(labels);
      var me = state.me;
      $("login").hidden = true;
      $("app").hidden = false;
      $("me").textContent = me.name + "(" + (me.skills || []).map(function (k) { return L.skills[k] || k; }).join("、") + ")";
      $("supervisor-link").hidden = (me.skills || []).indexOf("supervisor") < 0;
      K.hooks.login && K.hooks.login();
      return Promise.all([K.loadScripts(), K.refreshQueue(), loadMyChats()]);
    }).then(function () { connect(); renewLoop(); }).catch(function (err) {
      sessionStorage.removeItem("kefu.agentToken");
      $("login-error").textContent = err.status === 401 ? "令牌无效,请检查后重试" : "登录失败:" + err.message;
    });
  }

  $("logout").addEventListener("click", function () {
    sessionStorage.removeItem("kefu.agentToken");
    location.reload();
  });

  state.drafts = {};  // ticket id -> unsent reply, kept when the agent switches chats

  // ---- chats -----------------------------------------------------------------
  // The server's list is the truth: a chat the console shows that the agent no
  // longer holds is said to be lost, plainly, and taken away.
  function loadMyChats() {
    return API.call("GET", "/api/chats").then(function (data) {
      var held = {};
      (data.tickets || []).forEach(function (t) {
        held[t.id] = true;
        var old = state.chats[t.id];
        t.unread = old ? old.unread : 0;
        state.chats[t.id] = t;
        if (state.order.indexOf(t.id) < 0) state.order.push(t.id);
      });
      Object.keys(state.chats).forEach(function (id) { if (!held[id]) lose(id); });
      renderTabs();
      if (state.active && state.chats[state.active]) openChat(state.active);
      else if (!state.active && state.order.length) openChat(state.order[0]);
    });
  }
  K.loadMyChats = loadMyChats;

  function lose(id) {
    var t = state.chats[id];
    if (!t) return;
    if (!t.closing) notice(msg("chat_lost", { customer: t.customer }));  // not the agent's own resolve / transfer
    forget(id);
  }

  K.forget = forget;
  function forget(id) {
    delete state.drafts[id];
    delete state.chats[id];
    state.order = state.order.filter(function (x) { return x !== id; });
    if (state.active === id) {
      state.active = null;
      if (state.order.length) openChat(state.order[0]); else renderChat();
    }
    renderTabs();
  }

  // Leases renewed over HTTP too, so a WebSocket outage does not take a chat away.
  function renewLoop() {
    clearTimeout(state.renewTimer);
    var ids = Object.keys(state.chats);
    var next = function () { state.renewTimer = setTimeout(renewLoop, Math.max(2, state.lease / 3) * 1000); };
    if (!ids.length) { next(); return; }
    API.call("POST", "/api/chats/renew", { ticket_ids: ids }).then(function (data) {
      state.lease = data.lease_seconds || state.lease;
      (data.lost || []).forEach(function (l) { lose(l.id); });
      // a lost chat is back in the queue; without a live WebSocket the queue is not refreshed otherwise
      if ((data.lost || []).length || !state.ws || state.ws.readyState !== 1) K.refreshQueue();
    }).catch(function () { /* offline: the next round (or the WebSocket) renews */ }).then(next);
  }

  K.claimTicket = function (id) {
    API.call("POST", "/api/tickets/" + encodeURIComponent(id) + "/claim").then(claimed).catch(claimFailed);
  };
  K.claimNext = function () { API.call("POST", "/api/queue/next").then(claimed).catch(claimFailed); };
  function claimed(ticket) {
    ticket.unread = 0;
    state.chats[ticket.id] = ticket;
    if (state.order.indexOf(ticket.id) < 0) state.order.push(ticket.id);
    K.clearAlerts();
    openChat(ticket.id);  // its GET confirms the claim reached this console
    K.refreshQueue();
  }
  function claimFailed(err) {
    // the server's reason (taken by someone else, needs a skill, capacity…), never a guess
    notice(err.status === 409 || err.code === "network" ? err.message : msg("claim_failed") + err.message);
    K.refreshQueue();
  }

  function renderTabs() {
    var tabs = $("tabs");
    tabs.textContent = "";
    state.order.forEach(function (id, index) {
      var t = state.chats[id];
      if (!t) return;
      var b = el("button", "tab " + (t.priority || "") + (id === state.active ? " active" : ""), (t.priority || "") + " " + t.customer);
      b.dataset.ticket = id;
      b.setAttribute("role", "tab");
      b.setAttribute("aria-selected", id === state.active ? "true" : "false");
      b.title = "Alt+" + (index + 1);
      if (t.unread) {
        var badge = el("span", "unread", t.unread);
        badge.setAttribute("aria-label", msg("unread_label", { n: t.unread }));
        b.appendChild(badge);
      }
      b.addEventListener("click", function () { openChat(id); });
      tabs.appendChild(b);
    });
    K.updateTitle();
  }
  K.renderTabs = renderTabs;

  function openChat(id) {
    if (state.active !== id) K.switched = true;
    state.active = id;
    if (state.chats[id]) state.chats[id].unread = 0;
    renderTabs();
    // show what we have at once: the tab, the chat pane and the composer's draft switch together,
    // so nothing typed meanwhile lands in the other chat's draft
    if (state.chats[id]) renderChat();
    return API.call("GET", "/api/tickets/" + encodeURIComponent(id)).then(function (ticket) {
      if (!state.chats[id]) return;
      ticket.unread = 0;
      state.chats[id] = ticket;
      renderTabs();
      renderChat();
    }).catch(function (err) {
      if (err.status === 403 || err.status === 404 || err.status === 409) lose(id);
    });
  }
  K.openChat = openChat;

  function renderChat() {
    var t = state.chats[state.active];
    $("empty").hidden = !!t;
    $("chat").hidden = !t;
    if (!t) return;
    if (state.shown !== t.id) {  // another chat: its own draft, no selection carried over
      if (state.shown) state.drafts[state.shown] = $("reply").value;
      $("reply").value = state.drafts[t.id] || "";
      $("transfer-to").value = "";
      $("handback-flow").value = "";
      state.pending = null;
      state.shown = t.id;
      K.checkReply();
    }
    $("t-summary").textContent = t.summary || "";
    $("t-priority").textContent = L.priorities[t.priority] || t.priority;
    var reason = L.reasons[t.reason] || t.reason || "";
    $("t-reason").textContent = reason;
    var named = intents(t.intents, reason);
    $("t-intents").textContent = named;
    $("t-intents-sep").hidden = !named;
    $("t-order").textContent = t.order_ref || "—";  // an order number is no personal data (README, 个人数据)
    var mood = (t.sentiment && (t.sentiment.label || t.sentiment)) || "";
    $("t-sentiment").textContent = L.sentiments[mood] || mood || "—";
    $("t-customer").textContent = t.customer || "";
    $("t-typing").hidden = !t.typing;
    showPresence(t);
    KefuScripts.refresh();
    var list = $("transcript");
    list.textContent = "";
    (t.transcript || []).forEach(function (m) { list.appendChild(turn(m)); });
    list.scrollTop = list.scrollHeight;
    K.hooks.chat.forEach(function (f) { f(t); });
  }
  K.renderChat = renderChat;

  var REST = { rest: true, kefu: true };
  function showPresence(t) {
    var node = $("t-presence");
    if (REST[t.channel]) {  // a REST customer has no page to be on: say when they last wrote
      var last = (t.transcript || []).filter(function (m) { return m.role === "user" && m.ts; }).pop();
      var ago = last ? msg("minutes_ago", { n: Math.max(0, Math.round((Date.now() - last.ts) / 60000)) }) : "—";
      node.textContent = msg("customer_rest", { ago: ago });
      node.className = "presence rest";
      return;
    }
    node.textContent = t.customer_online ? msg("customer_online") : msg("customer_offline");
    node.className = "presence " + (t.customer_online ? "on" : "off");
  }

  function turn(m) {
    var role = m.role || m.sender || "system";
    var li = el("li", "turn " + (role === "user" ? "customer" : role));
    li.dataset.id = m.id || "";
    var who = el("div", "who", (L.roles[role] || role) + (m.agent_name ? " · " + m.agent_name : ""));
    if (m.ts) { var ts = el("time", "ts", time(m.ts)); ts.dateTime = new Date(m.ts).toISOString(); who.appendChild(ts); }
    li.appendChild(who);
    li.appendChild(el("div", "text", m.text));
    K.hooks.message.forEach(function (f) { f(li, m); });
    return li;
  }

  // ---- live events ------------------------------------------------------------
  function connect() {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(proto + location.host + "/ws/agent?token=" + encodeURIComponent(API.token) + "&last_id=" + encodeURIComponent(state.lastEventId));
    state.ws = ws;
    ws.onopen = function () {
      $("ws-state").textContent = msg("ws_on"); $("ws-state").className = "conn on";
      // every reconnect: what this agent holds now, and the queue, from the server
      if (state.wsOpened) { loadMyChats(); K.refreshQueue(); }
      state.wsOpened = true;
    };
    ws.onclose = function () {
      $("ws-state").textContent = msg("ws_off");
      $("ws-state").className = "conn off";
      setTimeout(connect, 1000);
    };
    ws.onmessage = function (event) {
      var data = JSON.parse(event.data);
      if (data.id) state.lastEventId = data.id;
      onEvent(data);
    };
  }

  function onEvent(e) {
    if (e.type === "queue") { K.refreshQueue(); if (state.chats[e.ticket_id] && !state.chats[e.ticket_id].closing) loadMyChats(); return; }
    var t = state.chats[e.ticket_id];
    if (e.type === "message" && t) {
      if (e.message && e.message.role === "user") { t.typing = false; if (e.ticket_id === state.active) $("t-typing").hidden = true; }
      t.transcript = t.transcript || [];
      t.transcript.push(e.message);
      var fromCustomer = e.message && e.message.role === "user";
      if (e.ticket_id === state.active) {
        $("transcript").appendChild(turn(e.message));
        $("transcript").scrollTop = $("transcript").scrollHeight;
        if (fromCustomer && document.hidden) t.unread = (t.unread || 0) + 1;
        showPresence(t);
      } else if (fromCustomer) {
        t.unread = (t.unread || 0) + 1;
      }
      if (fromCustomer) K.beep(520, "replySound");
      renderTabs();
    } else if (e.type === "presence" && t) {
      t.customer_online = !!e.online;
      if (e.ticket_id === state.active) showPresence(t);
    } else if (e.type === "typing" && t) {
      t.typing = !!e.typing;
      clearTimeout(t.typingTimer);
      if (t.typing) t.typingTimer = setTimeout(function () { t.typing = false; if (e.ticket_id === state.active) $("t-typing").hidden = true; }, 6000);
      if (e.ticket_id === state.active) $("t-typing").hidden = !t.typing;
    } else if (e.type === "ticket") {
      K.refreshQueue();
      loadMyChats();
    }
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && state.active && state.chats[state.active]) { state.chats[state.active].unread = 0; renderTabs(); }
  });

  K.start = function () { if (API.token) login(); };
})();
