// The customer panel beside a chat (GET /api/tickets/{id}/context): the order
// with its status, ETA, rider/driver, amount, refunds and claims; the same
// customer's earlier conversations; internal notes. Plus 查看原文 on a
// customer's masked turn (POST .../reveal, audited by the bridge). Everything
// arrives masked and is set with textContent.
(function () {
  "use strict";
  var K = window.KefuConsole, L = K.L, el = K.el, $ = K.$;

  function row(dl, label, value) {
    dl.appendChild(el("dt", "", label));
    dl.appendChild(el("dd", "", value));
  }

  function records(parent, title, list) {
    if (!list || !list.length) return;
    parent.appendChild(el("h4", "", title));
    var ul = el("ul", "records");
    list.forEach(function (r) { ul.appendChild(el("li", "", r.id + " · ¥" + r.amount + " · " + r.status)); });
    parent.appendChild(ul);
  }

  function renderOrder(order) {
    var box = $("p-order");
    box.textContent = "";
    if (!order) { box.appendChild(el("p", "none", K.msg("no_order"))); return; }
    var dl = el("dl", "order");
    var F = L.panel;
    row(dl, F.order, K.msg("order_line", { type: order.order_type, order: order.order_masked }));
    row(dl, F.status, order.status);
    row(dl, F.phone, order.phone_masked);
    row(dl, F.amount, "¥" + order.amount);
    (order.details || []).forEach(function (d) { row(dl, d.label, d.value); });
    box.appendChild(dl);
    records(box, F.refunds, order.refunds);
    records(box, F.claims, order.claims);
  }

  function renderHistory(list) {
    var ol = $("p-history");
    ol.textContent = "";
    if (!list.length) { ol.appendChild(el("li", "none", K.msg("no_history"))); return; }
    list.forEach(function (h) {
      var li = el("li", "");
      li.appendChild(el("div", "when", new Date(h.created_at).toLocaleString("zh-CN", { hour12: false }) + " · " +
        (L.reasons[h.reason] || h.reason) + " · " + (L.outcomes[h.outcome] || h.outcome || h.state)));
      if (h.summary) li.appendChild(el("div", "summary", h.summary));
      if (h.agent_name) li.appendChild(el("div", "sub", K.msg("history_agent", { name: h.agent_name }) +
        (h.notes ? K.msg("history_notes", { n: h.notes }) : "")));
      ol.appendChild(li);
    });
  }

  function renderNotes(list) {
    var ol = $("p-notes");
    ol.textContent = "";
    list.forEach(function (n) {
      var li = el("li", "");
      li.appendChild(el("div", "who", (n.agent_name || "") + " " + K.time(n.ts)));
      li.appendChild(el("div", "text", n.text));
      ol.appendChild(li);
    });
  }

  function load(t) {
    var id = t.id;
    K.API.call("GET", "/api/tickets/" + encodeURIComponent(id) + "/context").then(function (ctx) {
      if (K.state.active !== id) return;
      renderOrder(ctx.order);
      renderHistory(ctx.history || []);
      renderNotes(ctx.notes || []);
    }).catch(function () { /* the panel is a help, the chat goes on without it */ });
  }
  K.hooks.chat.push(function (t) { if (t.id !== K.state.panelFor || K.switched) { K.state.panelFor = t.id; K.switched = false; load(t); } });

  $("add-note").addEventListener("click", function () {
    var text = $("note").value.trim(), id = K.state.active;
    if (!text || !id) return;
    K.API.call("POST", "/api/tickets/" + encodeURIComponent(id) + "/notes", { text: text }).then(function () {
      $("note").value = "";
      K.notice(K.msg("note_added"), "ok");
      load({ id: id });
    }).catch(function (err) { K.notice(K.msg("action_failed") + err.message); });
  });

  // 查看原文: each click reveals the next personal value of the turn (audited).
  var MASKED = /\*{3,}|…\d{4}|\[内容已隐藏\]/;
  K.hooks.message.push(function (li, m) {
    if (m.role !== "user" || !m.id || !MASKED.test(m.text || "")) return;
    var button = el("button", "reveal link-dark", K.msg("reveal"));
    button.setAttribute("aria-label", K.msg("reveal_label"));
    var shown = el("ul", "revealed");
    var index = 0;
    button.addEventListener("click", function () {
      K.API.call("POST", "/api/tickets/" + encodeURIComponent(K.state.active) + "/reveal", { message_id: m.id, index: index }).then(function (r) {
        shown.appendChild(el("li", "", K.msg("revealed", { label: L.pii[r.label] || r.label, value: r.value })));
        index += 1;
      }).catch(function (err) {
        if (err.status === 400) { button.disabled = true; button.textContent = K.msg("reveal_none"); } else K.notice(err.message);
      });
    });
    li.appendChild(button);
    li.appendChild(shown);
  });
})();
