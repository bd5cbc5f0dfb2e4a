// Agent console: log in with a token, watch the live queue, claim, chat,
// resolve / transfer / hand back. All customer text is rendered with
// textContent (never innerHTML), so markup in a message shows as text.
(function () {
  "use strict";
  var API = {
    token: sessionStorage.getItem("kefu.agentToken") || "",
    call: function (method, path, body) {
      return fetch(path, {
        method: method,
        headers: { "Authorization": "Bearer " + API.token, "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body)
      }).then(function (resp) {
        return resp.json().catch(function () { return {}; }).then(function (data) {
          if (!resp.ok) { var err = new Error(data.detail || data.error || ("HTTP " + resp.status)); err.status = resp.status; throw err; }
          return data;
        });
      });
    }
  };
  var PRIORITY_NAMES = { P0: "P0 安全", P1: "P1 紧急", P2: "P2 普通" };
  var REASON_NAMES = {
    safety: "安全问题", request_human: "客户要求人工", fallback: "机器人未能理解", identity_failed: "身份核实未通过",
    low_rating: "低评分", anger: "客户情绪激动", over_limit: "超出自动处理权限", unresolved: "问题未解决"
  };
  var INTENT_NAMES = {
    query_order_status: "查询订单", request_refund: "申请退款", report_delay: "反映延误", report_safety: "安全问题",
    payment_issue: "支付异常", cancel_order: "取消订单", complain_service: "投诉服务", report_damage: "货损",
    change_order_info: "修改订单", fee_dispute: "费用争议", request_invoice: "申请发票", request_human: "要求人工",
    greet: "问候", goodbye: "告别", thank: "感谢", affirm: "肯定", deny: "否定", inform: "补充信息",
    out_of_scope: "超出范围", rate: "评分", nlu_fallback: "未识别"
  };
  function intents(list) { return (list || []).map(function (i) { return INTENT_NAMES[i] || i; }).join("、"); }
  var SENTIMENT_NAMES = { calm: "平静", angry: "愤怒", urgent: "着急", negative: "不满" };
  var state = { me: null, queue: [], chats: {}, active: null, scripts: [], forbidden: [], lastEventId: "0", ws: null };
  var $ = function (id) { return document.getElementById(id); };

  var noticeTimer = null;
  function notice(text) {
    var node = $("notice");
    node.textContent = text;
    node.hidden = false;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(function () { node.hidden = true; }, 6000);
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // ---- login -------------------------------------------------------------
  $("login-form").addEventListener("submit", function (event) {
    event.preventDefault();
    API.token = $("token").value.trim();
    login();
  });

  function login() {
    if (!API.token) return;
    API.call("GET", "/api/me").then(function (me) {
      state.me = me;
      sessionStorage.setItem("kefu.agentToken", API.token);
      $("login").hidden = true;
      $("app").hidden = false;
      var SKILLS = { safety: "安全专员", general: "综合", refund: "退款", supervisor: "主管" };
      $("me").textContent = me.name + "(" + (me.skills || []).map(function (k) { return SKILLS[k] || k; }).join("、") + ")";
      $("supervisor-link").hidden = (me.skills || []).indexOf("supervisor") < 0;
      return Promise.all([loadScripts(), refreshQueue(), loadMyChats()]);
    }).then(connect).catch(function (err) {
      sessionStorage.removeItem("kefu.agentToken");
      $("login-error").textContent = err.status === 401 ? "令牌无效,请检查后重试" : "登录失败:" + err.message;
    });
  }

  $("logout").addEventListener("click", function () {
    sessionStorage.removeItem("kefu.agentToken");
    location.reload();
  });

  // ---- queue ---------------------------------------------------------------
  function refreshQueue() {
    return API.call("GET", "/api/queue").then(function (data) {
      var before = {};
      state.queue.forEach(function (t) { before[t.id] = true; });
      state.queue = data.tickets || [];
      var newP0 = state.queue.some(function (t) { return t.priority === "P0" && !before[t.id]; });
      renderQueue();
      if (newP0) alertP0();
    });
  }

  function slaText(ticket) {
    var left = Math.round((new Date(ticket.sla_deadline).getTime() - Date.now()) / 1000);
    if (left < 0) return { text: "已超时 " + formatSeconds(-left), breached: true };
    return { text: "剩余 " + formatSeconds(left), breached: false };
  }

  function formatSeconds(s) {
    var m = Math.floor(s / 60);
    return (m ? m + "分" : "") + (s % 60) + "秒";
  }

  function renderQueue() {
    var list = $("queue");
    list.textContent = "";
    $("queue-count").textContent = state.queue.length;
    if (!state.queue.length) list.appendChild(el("li", "queue-empty", "暂无排队客户"));
    state.queue.forEach(function (t) {
      var li = el("li", "ticket " + t.priority);
      li.dataset.ticket = t.id;
      li.dataset.priority = t.priority;
      var row = el("div", "row");
      row.appendChild(el("span", "pri", PRIORITY_NAMES[t.priority] || t.priority));
      row.appendChild(el("span", "wait"));
      row.appendChild(el("span", "sla"));
      li.appendChild(row);
      li.appendChild(el("div", "summary", t.summary));
      li.appendChild(el("div", "sub", "原因:" + (REASON_NAMES[t.reason] || t.reason) + " · 意图:" + intents(t.intents) + " · 客户:" + t.customer));
      var claim = el("button", "claim", "接入");
      claim.addEventListener("click", function () { claimTicket(t.id); });
      li.appendChild(claim);
      list.appendChild(li);
    });
    tickQueue();
  }

  // Wait time and SLA countdown, updated in place every second.
  function tickQueue() {
    var byId = {};
    state.queue.forEach(function (t) { byId[t.id] = t; });
    Array.prototype.forEach.call($("queue").querySelectorAll("li.ticket"), function (li) {
      var t = byId[li.dataset.ticket];
      if (!t) return;
      var waited = Math.round((Date.now() - new Date(t.created_at).getTime()) / 1000);
      li.querySelector(".wait").textContent = "等待 " + formatSeconds(Math.max(waited, 0));
      var sla = slaText(t);
      var node = li.querySelector(".sla");
      node.textContent = sla.text;
      node.className = "sla" + (sla.breached ? " breached" : "");
      li.classList.toggle("breached", sla.breached);
    });
  }

  function alertP0() {
    document.title = "【P0 安全】客服工作台";
    try {
      var ctx = new (window.AudioContext || window.webkitAudioContext)();
      var osc = ctx.createOscillator();
      osc.frequency.value = 880;
      osc.connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + 0.4);
      document.body.dataset.p0Sound = String(Number(document.body.dataset.p0Sound || 0) + 1);
    } catch (e) { /* no audio device: the badge still shows */ }
    document.body.dataset.p0 = "1";
  }

  setInterval(function () { if (!$("app").hidden) tickQueue(); }, 1000);

  // ---- chats -----------------------------------------------------------------
  function loadMyChats() {
    return API.call("GET", "/api/chats").then(function (data) {
      (data.tickets || []).forEach(function (t) { state.chats[t.id] = t; });
      renderTabs();
      if (!state.active && data.tickets && data.tickets.length) openChat(data.tickets[0].id);
    });
  }

  function claimTicket(id) {
    API.call("POST", "/api/tickets/" + encodeURIComponent(id) + "/claim").then(function (ticket) {
      state.chats[ticket.id] = ticket;
      document.title = "客服工作台";
      openChat(ticket.id);
      refreshQueue();
    }).catch(function (err) {
      notice(err.status === 409 ? "该会话已被其他坐席接入" : "接入失败:" + err.message);
      refreshQueue();
    });
  }

  function renderTabs() {
    var tabs = $("tabs");
    tabs.textContent = "";
    Object.keys(state.chats).forEach(function (id) {
      var t = state.chats[id];
      var b = el("button", "tab " + (t.priority || "") + (id === state.active ? " active" : ""), (t.priority || "") + " " + t.customer);
      b.dataset.ticket = id;
      if (t.unread) b.appendChild(el("span", "unread", "●"));
      b.addEventListener("click", function () { openChat(id); });
      tabs.appendChild(b);
    });
  }

  function openChat(id) {
    state.active = id;
    API.call("GET", "/api/tickets/" + encodeURIComponent(id)).then(function (ticket) {
      ticket.unread = false;
      state.chats[id] = ticket;
      renderTabs();
      renderChat();
    });
  }

  var WHO = { user: "客户", customer: "客户", bot: "机器人", agent: "人工客服", system: "系统" };

  function renderChat() {
    var t = state.chats[state.active];
    $("empty").hidden = !!t;
    $("chat").hidden = !t;
    if (!t) return;
    $("t-summary").textContent = t.summary || "";
    $("t-priority").textContent = PRIORITY_NAMES[t.priority] || t.priority;
    $("t-reason").textContent = REASON_NAMES[t.reason] || t.reason || "";
    $("t-intents").textContent = intents(t.intents);
    $("t-order").textContent = t.order_ref || "—";
    var mood = (t.sentiment && (t.sentiment.label || t.sentiment)) || "";
    $("t-sentiment").textContent = SENTIMENT_NAMES[mood] || mood || "—";
    $("t-customer").textContent = t.customer || "";
    $("t-typing").hidden = !t.typing;
    showPresence(t);
    KefuScripts.refresh();
    var list = $("transcript");
    list.textContent = "";
    (t.transcript || []).forEach(function (m) { list.appendChild(turn(m)); });
    list.scrollTop = list.scrollHeight;
  }

  function showPresence(t) {
    var node = $("t-presence");
    node.textContent = t.customer_online ? "● 客户在线" : "○ 客户已离开聊天页";
    node.className = "presence " + (t.customer_online ? "on" : "off");
  }

  function turn(m) {
    var role = m.role || m.sender || "system";
    var li = el("li", "turn " + (role === "user" ? "customer" : role));
    li.appendChild(el("div", "who", (WHO[role] || role) + (m.agent_name ? " · " + m.agent_name : "")));
    li.appendChild(el("div", "text", m.text));
    return li;
  }

  // ---- composer ---------------------------------------------------------------
  // The scripts panel is web/scripts.js (search, categories, asking for a script's variables).
  function loadScripts() {
    return KefuScripts.attach({
      call: API.call,
      ticket: function () { return state.chats[state.active] || {}; },
      insert: function (text) { $("reply").value = text; checkReply(); $("reply").focus(); }
    }).then(function (data) { state.forbidden = data.forbidden || []; });
  }

  function checkReply() {
    var text = $("reply").value;
    var problems = [];
    state.forbidden.forEach(function (f) { if (text.indexOf(f.phrase) >= 0) problems.push("“" + f.phrase + "”是服务忌语,建议:" + f.suggestion); });
    if (/你(?!们)/.test(text)) problems.push("请用“您”称呼客户,不要用“你”");
    problems = problems.concat(KefuScripts.problems(text));
    $("reply-warning").hidden = !problems.length;
    $("reply-warning").textContent = problems.join(";");
  }
  $("reply").addEventListener("input", checkReply);

  function ticketAction(path, body) {
    var id = state.active;
    return API.call("POST", "/api/tickets/" + encodeURIComponent(id) + path, body);
  }

  $("send").addEventListener("click", function () {
    var text = $("reply").value.trim();
    if (!text || !state.active) return;
    ticketAction("/messages", { text: text }).then(function () {
      $("reply").value = "";
      checkReply();
    }).catch(function (err) { notice("发送失败:" + err.message); });
  });

  function closeChat(path, body) {
    ticketAction(path, body).then(function () {
      delete state.chats[state.active];
      state.active = Object.keys(state.chats)[0] || null;
      renderTabs();
      if (state.active) openChat(state.active); else renderChat();
      refreshQueue();
    }).catch(function (err) { notice("操作失败:" + err.message); });
  }
  $("resolve").addEventListener("click", function () { closeChat("/resolve"); });
  $("transfer").addEventListener("click", function () {
    var to = $("transfer-to").value;
    if (to) closeChat("/transfer", to.indexOf("skill:") === 0 ? { skill: to.slice(6) } : { agent_id: to });
  });
  $("handback").addEventListener("click", function () {
    var flow = $("handback-flow").value;
    if (flow) closeChat("/handback", { flow: flow });
  });

  // ---- live events ------------------------------------------------------------
  function connect() {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(proto + location.host + "/ws/agent?token=" + encodeURIComponent(API.token) + "&last_id=" + encodeURIComponent(state.lastEventId));
    state.ws = ws;
    ws.onopen = function () { $("ws-state").textContent = "实时连接"; $("ws-state").className = "conn on"; };
    ws.onclose = function () {
      $("ws-state").textContent = "连接断开,重连中…";
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
    if (e.type === "queue") { refreshQueue(); return; }
    var t = state.chats[e.ticket_id];
    if (e.type === "message" && t) {
      if (e.message && e.message.role === "user") { t.typing = false; if (e.ticket_id === state.active) $("t-typing").hidden = true; }
      t.transcript = t.transcript || [];
      t.transcript.push(e.message);
      if (e.ticket_id === state.active) { $("transcript").appendChild(turn(e.message)); $("transcript").scrollTop = $("transcript").scrollHeight; }
      else { t.unread = true; renderTabs(); }
    } else if (e.type === "presence" && t) {
      t.customer_online = !!e.online;
      if (e.ticket_id === state.active) showPresence(t);
    } else if (e.type === "typing" && t) {
      t.typing = !!e.typing;
      clearTimeout(t.typingTimer);
      if (t.typing) t.typingTimer = setTimeout(function () { t.typing = false; if (e.ticket_id === state.active) $("t-typing").hidden = true; }, 6000);
      if (e.ticket_id === state.active) $("t-typing").hidden = !t.typing;
    } else if (e.type === "ticket") {
      refreshQueue();
      loadMyChats();
    }
  }

  if (API.token) login();
})();
