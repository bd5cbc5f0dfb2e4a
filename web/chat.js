// The in-app chat as customers see it: socket.io to the Rasa server, the
// rasa-webchat protocol (session_request / user_uttered / bot_uttered).
// Everything the customer, the bot or an agent wrote is shown as text nodes,
// never as HTML. In bot and agent messages, [text](url) and bare URLs become
// links only for http, https and mailto; javascript:, data: and the rest stay
// visible as the characters that were sent.
// A reload keeps the conversation, as the stock widget does: the socket.io
// session id stays in localStorage (same conversation, so replies and agent
// messages still arrive) and what the page showed (messages and the latest
// buttons) is kept in sessionStorage, drawn again before reconnecting. Neither
// the bot nor the bridge gives an anonymous page its history back, so the page
// keeps its own (at most HISTORY_LIMIT messages, gone when the tab closes).
// Dev only: /chat?demo=13812345678 signs in as that seeded demo customer
// through the bridge's POST /dev/customer-token (KEFU_DEV_LOGIN=1, `make run`)
// and sends the token in socket.io's auth, as the platform's app would; the
// bot then knows the customer's phone. Without it the page is anonymous.
(function () {
  "use strict";
  var cfg = window.KEFU || {};
  var socketUrl = cfg.socketUrl || location.origin;
  var bridgeUrl = cfg.bridgeUrl || location.origin;
  var inHandoff = false;
  var sessionKey = "kefu.session";
  var sessionId = localStorage.getItem(sessionKey);
  if (!sessionId) {
    sessionId = "web-" + Math.random().toString(36).slice(2) + Date.now().toString(36);
    localStorage.setItem(sessionKey, sessionId);
  }
  var HISTORY_LIMIT = 300;
  var historyKey = "kefu.history";
  var history = { session: sessionId, messages: [], buttons: [] };
  var log = document.getElementById("log");
  var quick = document.getElementById("quick");
  var queue = document.getElementById("queue");
  var conn = document.getElementById("conn");
  var form = document.getElementById("composer");
  var input = document.getElementById("text");

  var LINK = /\[([^\]\n]{1,200})\]\(([^()\s]{1,2000})\)|(https?:\/\/[^\s<>"'()\[\]（）【】，。！？、；：]+)/g;
  var SAFE_SCHEME = /^(https?:\/\/|mailto:)/i;
  var SAFE_PROTOCOLS = { "http:": true, "https:": true, "mailto:": true };

  // The URL to link to, or null: absolute http(s) or mailto as the URL parser
  // reads it (it drops the tabs and blanks of "java\tscript:" tricks).
  function safeHref(raw) {
    if (!SAFE_SCHEME.test(raw)) return null;
    try {
      var url = new URL(raw);
      return SAFE_PROTOCOLS[url.protocol] ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function renderText(node, text, links) {
    var last = 0, match;
    LINK.lastIndex = 0;
    while (links && (match = LINK.exec(text)) !== null) {
      var href = safeHref(match[2] || match[3]);
      if (!href) continue;
      node.appendChild(document.createTextNode(text.slice(last, match.index)));
      var a = document.createElement("a");
      a.href = href;
      a.textContent = match[1] || match[3];
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      node.appendChild(a);
      last = match.index + match[0].length;
    }
    node.appendChild(document.createTextNode(text.slice(last)));
  }

  function saveHistory() {
    try {
      sessionStorage.setItem(historyKey, JSON.stringify(history));
    } catch (e) { /* storage full or off: the conversation itself goes on */ }
  }

  // What this tab showed for this conversation before a reload, drawn again.
  function restoreHistory() {
    var kept = null;
    try { kept = JSON.parse(sessionStorage.getItem(historyKey) || "null"); } catch (e) { kept = null; }
    history = { session: sessionId, messages: [], buttons: [] };
    if (!kept || kept.session !== sessionId || !Array.isArray(kept.messages)) { saveHistory(); return; }
    kept.messages.forEach(function (m) { draw(m); history.messages.push(m); });
    showButtons(Array.isArray(kept.buttons) ? kept.buttons : []);
  }

  function add(kind, who, text, person) {
    var m = { kind: kind, who: who, text: text, person: !!person };
    history.messages.push(m);
    if (history.messages.length > HISTORY_LIMIT) history.messages.splice(0, history.messages.length - HISTORY_LIMIT);
    saveHistory();
    return draw(m);
  }

  // Keep the latest message in view when the banner, the buttons or the keyboard take room.
  function toBottom() { log.scrollTop = log.scrollHeight; }
  if (window.ResizeObserver) new ResizeObserver(toBottom).observe(log);

  function draw(m) {
    var kind = m.kind, who = m.who, text = m.text;
    var li = document.createElement("li");
    li.className = "msg " + kind;
    var label = document.createElement("span");
    label.className = "who";
    label.textContent = who;
    var bubble = document.createElement("div");
    bubble.className = "bubble";
    renderText(bubble, text, kind !== "user");
    if (m.person) {
      var badge = document.createElement("span");
      badge.className = "person";
      badge.textContent = "真人";
      label.appendChild(badge);
    }
    li.appendChild(label);
    li.appendChild(bubble);
    log.appendChild(li);
    toBottom();
    return li;
  }

  function showButtons(buttons) {
    quick.textContent = "";
    quick.className = "quick";
    history.buttons = (buttons || []).map(function (b) { return { title: b.title, payload: b.payload }; });
    saveHistory();
    toBottom();
    if (!buttons || !buttons.length) return;
    var rating = buttons.every(function (b) { return /rate/.test(b.payload || ""); });
    if (rating) quick.className = "quick rating";
    buttons.forEach(function (b) {
      var btn = document.createElement("button");
      btn.type = "button";
      btn.textContent = b.title;
      btn.addEventListener("click", function () { send(b.payload, b.title); });
      quick.appendChild(btn);
    });
    toBottom();
  }

  // Connected once we know whether this is a signed-in demo customer (see above).
  var socket = io(socketUrl, { path: "/socket.io", transports: ["websocket"], autoConnect: false });
  var demoPhone = new URLSearchParams(location.search).get("demo");
  if (demoPhone && /^1[3-9][0-9]{9}$/.test(demoPhone)) {
    fetch(bridgeUrl + "/dev/customer-token", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ phone: demoPhone })
    }).then(function (resp) {
      return resp.ok ? resp.json() : null;
    }).then(function (signed) {
      if (signed && signed.token) {
        socket.auth = { token: signed.token };
        sessionId = signed.sender || sessionId;  // the server binds the conversation to the identity
      }
      restoreHistory();
      socket.connect();
    }).catch(function () { restoreHistory(); socket.connect(); });
  } else {
    restoreHistory();
    socket.connect();
  }

  function send(message, shown) {
    if (!message || !message.trim()) return;
    add("user", "我", shown || message);
    showButtons([]);
    socket.emit("user_uttered", { message: message, session_id: sessionId });
  }

  socket.on("connect", function () {
    conn.textContent = "已连接";
    conn.className = "conn on";
    socket.emit("session_request", { session_id: sessionId });
    pollStatus();
  });
  // The conversation the server chose: a signed-in customer's own, never one the page picked.
  socket.on("session_confirm", function (confirmed) {
    if (typeof confirmed === "string" && confirmed && confirmed !== sessionId) {
      sessionId = confirmed;
      if (!socket.auth) localStorage.setItem(sessionKey, sessionId);
      history = { session: sessionId, messages: history.messages, buttons: history.buttons };
      saveHistory();
      pollStatus();
    }
  });
  socket.on("disconnect", function () {
    conn.textContent = "连接断开,正在重连…";
    conn.className = "conn off";
  });
  // Queue position from the bridge while waiting for a person (also after a reload).
  var statusTimer = null;
  function showStatus(st) {
    if (st.state === "waiting") {
      inHandoff = true;
      queue.hidden = false;
      if (st.text) queue.textContent = st.text;  // the domain's sentence (utter_handoff_banner)
    } else {
      queue.hidden = true;
      inHandoff = st.state === "active";
    }
  }
  function pollStatus() {
    clearTimeout(statusTimer);
    fetch(bridgeUrl + "/customer/" + encodeURIComponent(sessionId) + "/status").then(function (resp) {
      return resp.ok ? resp.json() : null;
    }).then(function (st) {
      if (!st) return;
      showStatus(st);
      if (inHandoff && !presenceTimer) heartbeat();
      if (!inHandoff) { clearTimeout(presenceTimer); presenceTimer = null; }
      if (st.state === "waiting") statusTimer = setTimeout(pollStatus, 3000);
    }).catch(function () { /* the bot still answers without the bridge */ });
  }

  socket.on("bot_uttered", function (data) {
    var meta = (data && data.metadata) || {};
    if (meta.kind === "queue_position") {
      inHandoff = true;
      queue.hidden = false;
      queue.textContent = data.text || "";
    }
    if (meta.kind === "agent_joined") inHandoff = true;
    if (meta.kind === "queue_left" || meta.kind === "agent_joined" || meta.kind === "handoff_closed") {
      queue.hidden = true;
    }
    if (meta.kind === "queue_left" || meta.kind === "handoff_closed") inHandoff = false;
    if (data.text) {
      if (meta.from === "agent") {
        add("agent", "人工客服" + (meta.agent_name ? " · " + meta.agent_name : ""), data.text, true);
      } else add("bot", "智能客服", data.text);
    }
    showButtons(data.quick_replies || data.buttons);
    pollStatus();
  });

  // While a person may be reading: a heartbeat says the page is open, a beacon that it closed.
  var presenceTimer = null;
  function presenceUrl() { return bridgeUrl + "/customer/" + encodeURIComponent(sessionId) + "/presence"; }
  function heartbeat() {
    clearTimeout(presenceTimer);
    if (!inHandoff) return;
    fetch(presenceUrl(), {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ online: true })
    }).catch(function () { /* retried on the next beat */ });
    presenceTimer = setTimeout(heartbeat, 10000);
  }
  window.addEventListener("pagehide", function () {
    if (inHandoff && navigator.sendBeacon) navigator.sendBeacon(presenceUrl(), JSON.stringify({ online: false }));
  });

  // Typing hints for the agent, only while a person may be reading.
  var typingSent = 0, typingStop = null;
  function typing(on) {
    if (!inHandoff) return;
    fetch(bridgeUrl + "/customer/" + encodeURIComponent(sessionId) + "/typing", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ typing: on })
    }).catch(function () { /* a lost hint does not matter */ });
  }
  input.addEventListener("input", function () {
    if (Date.now() - typingSent > 2000) { typingSent = Date.now(); typing(true); }
    clearTimeout(typingStop);
    typingStop = setTimeout(function () { typingSent = 0; typing(false); }, 3000);
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    input.value = "";
    clearTimeout(typingStop);
    typingSent = 0;
    send(text);
  });
})();
