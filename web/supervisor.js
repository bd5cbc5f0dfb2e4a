// Supervisor view: queue per class, agents online, SLA breaches and today's
// quality figures from GET /api/supervisor/stats (agents with the
// "supervisor" skill). Charts are plain SVG built with the DOM; every label
// is set with textContent.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var COLORS = { P0: "#cf1322", P1: "#fa8c16", P2: "#1677ff" };
  var PRIORITY_NAMES = {};  // from GET /api/labels (handoff/labels.py), like the console
  var token = sessionStorage.getItem("kefu.agentToken") || "";
  var timer = null;
  var $ = function (id) { return document.getElementById(id); };

  function call(path) {
    return fetch(path, { headers: { "Authorization": "Bearer " + token } }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) {
        if (!resp.ok) { var err = new Error(data.detail || ("HTTP " + resp.status)); err.status = resp.status; throw err; }
        return data;
      });
    });
  }

  function svg(tag, attrs, text) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  function percent(x) { return x === null || x === undefined ? "—" : (Math.round(x * 1000) / 10) + "%"; }

  function duration(s) {
    if (s === null || s === undefined) return "—";
    s = Math.round(s);
    var m = Math.floor(s / 60);
    return (m ? m + "分" : "") + (s % 60) + "秒";
  }

  // Horizontal bars: rows of {label, value, color, text}; max is the scale.
  function hbars(container, rows, max, opts) {
    opts = opts || {};
    container.textContent = "";
    if (!rows.length) { container.appendChild(Object.assign(document.createElement("p"), { className: "none", textContent: "暂无数据" })); return; }
    // drawn at the container's own width, never scaled: labels stay 12 px on any screen
    var labelW = opts.labelWidth || 90, valueW = 112, rowH = 26;
    var barW = Math.max(90, Math.min(320, (container.clientWidth || 480) - labelW - valueW - 4));
    var width = labelW + barW + valueW;
    var root = svg("svg", { viewBox: "0 0 " + width + " " + (rows.length * rowH + 8), width: width, height: rows.length * rowH + 8,
                            role: "img", "aria-label": opts.title || "" });
    rows.forEach(function (r, i) {
      var y = i * rowH + 4;
      var w = max > 0 ? Math.max(r.value > 0 ? 2 : 0, barW * r.value / max) : 0;
      root.appendChild(svg("text", { x: labelW - 6, y: y + 15, "text-anchor": "end" }, r.label));
      root.appendChild(svg("rect", { x: labelW, y: y + 2, width: barW, height: rowH - 8, fill: "#f5f5f5", rx: 3 }));
      var bar = svg("rect", { x: labelW, y: y + 2, width: w, height: rowH - 8, fill: r.color || "#1677ff", rx: 3, "class": "bar" });
      bar.appendChild(svg("title", {}, r.label + ":" + r.text));
      root.appendChild(bar);
      root.appendChild(svg("text", { x: labelW + barW + 6, y: y + 15, "class": "bar-value" }, r.text));
    });
    if (opts.target !== undefined) {
      var tx = labelW + barW * opts.target / max;
      root.appendChild(svg("line", { x1: tx, x2: tx, y1: 0, y2: rows.length * rowH + 8, stroke: "#389e0d", "stroke-dasharray": "4 3" }));
    }
    container.appendChild(root);
  }

  // Vertical columns for the 1-5 rating distribution.
  function columns(container, labels, values, color) {
    container.textContent = "";
    var max = Math.max.apply(null, values.concat([1]));
    var gap = 14, h = 120;
    var colW = Math.max(30, Math.min(48, ((container.clientWidth || 340) - gap * (labels.length + 1)) / labels.length));
    var width = labels.length * (colW + gap) + gap;
    var root = svg("svg", { viewBox: "0 0 " + width + " " + (h + 40), width: width, height: h + 40, role: "img" });
    labels.forEach(function (label, i) {
      var x = gap + i * (colW + gap);
      var bh = h * values[i] / max;
      root.appendChild(svg("rect", { x: x, y: h - bh + 14, width: colW, height: bh, fill: color, rx: 3 }));
      root.appendChild(svg("text", { x: x + colW / 2, y: h - bh + 10, "text-anchor": "middle" }, values[i]));
      root.appendChild(svg("text", { x: x + colW / 2, y: h + 32, "text-anchor": "middle" }, label));
    });
    container.appendChild(root);
  }

  function setValue(id, text, cls) {
    var node = $(id);
    node.textContent = text;
    node.className = "value" + (cls ? " " + cls : "");
  }

  function render(data) {
    var live = data.live, today = data.today;
    $("updated").textContent = "更新于 " + new Date(data.generated_at).toLocaleTimeString("zh-CN");
    setValue("c-queue", live.queue_total);
    setValue("c-agents", live.agents_online.length);
    setValue("c-breached-now", live.sla_breached_waiting, live.sla_breached_waiting ? "bad" : "");
    setValue("c-breaches", today.sla_breaches, today.sla_breaches ? "bad" : "");
    var csat = today.satisfaction;
    setValue("c-csat", csat.average === null ? "—" : csat.average.toFixed(2),
      csat.average === null ? "" : (csat.average >= csat.target ? "good" : "bad"));
    var fcr = today.first_contact_resolution;
    setValue("c-fcr", percent(fcr.rate), fcr.rate === null ? "" : (fcr.rate >= fcr.target ? "good" : "bad"));
    setValue("c-aht", duration(today.average_handling_seconds));
    setValue("c-handoff", percent(today.handoff_rate));

    var qmax = Math.max(1, live.queue.P0, live.queue.P1, live.queue.P2);
    hbars($("chart-queue"), ["P0", "P1", "P2"].map(function (p) {
      return { label: PRIORITY_NAMES[p], value: live.queue[p], color: COLORS[p], text: live.queue[p] + " 人" };
    }), qmax, { title: "各优先级排队数" });

    $("conv-count").textContent = today.conversations;
    var other = Math.max(0, today.conversations - fcr.bot_closed - fcr.first_agent);
    hbars($("chart-fcr"), today.conversations ? [
      { label: "机器人独立解决", value: fcr.bot_closed, color: "#52c41a", text: fcr.bot_closed + "(" + percent(fcr.bot_rate) + ")" },
      { label: "首位坐席解决", value: fcr.first_agent, color: "#1677ff", text: fcr.first_agent + "/" + fcr.closed_by_agent + " 单" },
      { label: "未首次解决", value: other, color: "#bfbfbf", text: String(other) }
    ] : [], today.conversations, { title: "首次解决构成", labelWidth: 100 });

    $("rating-count").textContent = csat.count;
    columns($("chart-csat"), ["1分", "2分", "3分", "4分", "5分"],
      [1, 2, 3, 4, 5].map(function (s) { return csat.distribution[String(s)] || 0; }), "#faad14");

    hbars($("chart-intents"), today.handoff_rate_by_intent.map(function (row) {
      return { label: row.label, value: row.rate || 0, color: (row.rate || 0) >= 0.5 ? "#cf1322" : "#1677ff",
               text: percent(row.rate) + "(" + row.handoffs + "/" + row.conversations + ")" };
    }), 1, { title: "各意图转人工率", labelWidth: 90 });
    var rows = $("chart-intents").querySelectorAll("svg text:not(.bar-value)");
    today.handoff_rate_by_intent.forEach(function (row, i) { if (rows[i]) rows[i].setAttribute("data-intent", row.intent); });

    var list = $("agents");
    list.textContent = "";
    if (!live.agents_online.length) list.appendChild(Object.assign(document.createElement("li"), { textContent: "暂无在线坐席" }));
    live.agents_online.forEach(function (a) {
      var li = document.createElement("li");
      li.textContent = a.name + "(" + a.id + ")· 接待中 " + a.chats;
      list.appendChild(li);
    });
  }

  function localToday() {
    var d = new Date();
    return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
  }

  // The figures' day in words: 今日 for today, else the date shown in the field.
  function showDay(day) {
    var today = localToday();
    if (!$("day").value) $("day").value = day || today;
    var parts = (day || today).split("-");
    var word = (!day || day === today) ? "今日" : Number(parts[1]) + "月" + Number(parts[2]) + "日";
    Array.prototype.forEach.call(document.querySelectorAll(".day-word"), function (n) { n.textContent = word; });
  }

  function load() {
    var day = $("day").value || localToday();
    $("day").value = day;
    return call("/api/supervisor/stats" + (day ? "?date=" + encodeURIComponent(day) : "")).then(function (data) {
      $("board-error").textContent = "";
      render(data);
      showDay(data.date || day);
      return data;
    });
  }

  function start() {
    call("/api/me").then(function (me) {
      if ((me.skills || []).indexOf("supervisor") < 0) { var e = new Error("forbidden"); e.status = 403; throw e; }
      return call("/api/labels").then(function (labels) { PRIORITY_NAMES = labels.priorities; return me; });
    }).then(function (me) {
      sessionStorage.setItem("kefu.agentToken", token);
      $("me").textContent = me.name;
      $("login").hidden = true;
      $("board").hidden = false;
      return load();
    }).then(function () {
      if (timer) clearInterval(timer);
      timer = setInterval(function () {
        load().catch(function (err) { $("board-error").textContent = "刷新失败:" + err.message; });
      }, 5000);
    }).catch(function (err) {
      $("login").hidden = false;
      $("board").hidden = true;
      $("login-error").textContent = err.status === 401 ? "令牌无效,请检查后重试"
        : err.status === 403 ? "该令牌没有主管权限" : "登录失败:" + err.message;
    });
  }

  $("login-form").addEventListener("submit", function (event) {
    event.preventDefault();
    token = $("token").value.trim();
    if (token) start();
  });
  $("day").addEventListener("change", function () {
    load().catch(function (err) { $("board-error").textContent = err.message; });
  });
  if (token) start();
})();
