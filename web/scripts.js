// The console's standard-scripts panel: the whole list by category, searched
// on the bridge (GET /api/scripts?q=: titles, synonyms, categories, text; see
// handoff/scripts.py and data/agent_scripts.yml), shown with titles. The list
// narrows at once as the agent types (the same matching on the full list the
// page already has), then shows the bridge's answer, which also reads
// Traditional characters. A script
// goes into the reply with the chat's known variables filled in (the order's
// details); any variable the chat does not know is asked for, one field each,
// and the script is inserted only when every one is filled. A reply that still
// has a {placeholder} gets a warning here and a 400 from the bridge.
// All text is set with textContent, never as HTML.
(function () {
  "use strict";
  var PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
  var $ = function (id) { return document.getElementById(id); };
  var opts = null;
  var labels = {};
  var categories = [];
  var asked = 0;
  var lastData = { scripts: [], total: 0 };
  var everything = [];
  var searchTimer = null;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function known(name) {
    var vars = (opts.ticket() || {}).variables || {};
    var value = vars[name];
    return value === undefined || value === null || String(value) === "" ? null : String(value);
  }

  function fillWith(text, values) {
    return text.replace(PLACEHOLDER, function (all, name) {
      return values[name] !== undefined ? values[name] : all;
    });
  }

  // The variables of `script` the chat does not know, in order.
  function missing(script) {
    return (script.variables || []).filter(function (v) { return known(v.name) === null; });
  }

  function choose(script) {
    var values = {};
    (script.variables || []).forEach(function (v) { if (known(v.name) !== null) values[v.name] = known(v.name); });
    var ask = missing(script);
    if (!ask.length) { closeForm(); opts.insert(fillWith(script.text, values)); return; }
    showForm(script, ask, values);
  }

  function closeForm() {
    var form = $("script-fill");
    if (form) form.remove();
  }

  // One labelled field per unknown variable; insert only when all are filled.
  function showForm(script, ask, values) {
    closeForm();
    var form = el("form", "script-fill");
    form.id = "script-fill";
    form.setAttribute("aria-label", "填写话术变量");
    form.noValidate = true;  // our own message names what is missing
    form.appendChild(el("div", "fill-title", "填写“" + script.title + "”的变量"));
    ask.forEach(function (v, i) {
      var label = el("label", "fill-var");
      label.appendChild(el("span", "", v.label || v.name));
      var input = el("input");
      input.name = v.name;
      input.required = true;
      input.maxLength = 200;
      input.dataset.variable = v.name;
      input.setAttribute("aria-label", v.label || v.name);
      label.appendChild(input);
      form.appendChild(label);
      if (i === 0) setTimeout(function () { input.focus(); }, 0);
    });
    var error = el("div", "fill-error");
    error.setAttribute("role", "alert");
    form.appendChild(error);
    form.addEventListener("input", function () { error.textContent = ""; });
    var row = el("div", "fill-actions");
    var ok = el("button", "", "插入话术");
    ok.type = "submit";
    var cancel = el("button", "link", "取消");
    cancel.type = "button";
    cancel.addEventListener("click", closeForm);
    row.appendChild(ok);
    row.appendChild(cancel);
    form.appendChild(row);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var empty = [];
      Array.prototype.forEach.call(form.querySelectorAll("input"), function (input) {
        var value = input.value.trim();
        if (!value || /[{}]/.test(value)) empty.push(labels[input.name] || input.name);
        else values[input.name] = value;
      });
      if (empty.length) { error.textContent = "请填写:" + empty.join("、"); return; }
      closeForm();
      opts.insert(fillWith(script.text, values));
    });
    $("script-list").insertAdjacentElement("afterend", form);
  }

  function render(data) {
    lastData = data;
    var ul = $("script-list");
    ul.textContent = "";
    var titles = {};
    categories.forEach(function (c) { titles[c.id] = c.title; });
    var last = null;
    (data.scripts || []).forEach(function (s) {
      (s.variables || []).forEach(function (v) { labels[v.name] = v.label; });
      var li = el("li", "script");
      li.tabIndex = 0;
      li.setAttribute("role", "button");
      li.dataset.name = s.name;
      li.dataset.category = s.category;
      if (s.category !== last) {  // the category's heading, drawn by CSS (not a list item of its own)
        li.classList.add("first-of-category");
        li.dataset.categoryTitle = titles[s.category] || s.category;
        last = s.category;
      }
      li.appendChild(el("span", "title", s.title));
      li.appendChild(el("span", "text", s.text));
      if (missing(s).length) li.appendChild(el("span", "needs", "需填写 " + missing(s).length + " 项"));
      li.addEventListener("click", function () { choose(s); });
      li.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); choose(s); }
      });
      ul.appendChild(li);
    });
    if (!(data.scripts || []).length) ul.appendChild(el("li", "none", "没有找到相关话术,换个词试试(例如“延误”“退款”)"));
    $("script-count").textContent = (data.scripts || []).length + " / " + (data.total || 0);
  }

  // handoff/scripts.py ScriptLibrary.search on the list at hand: every word in the title,
  // synonyms, category or text; title, synonym and category hits first.
  function localSearch(q, category) {
    var words = q.toLowerCase().split(/\s+/).filter(Boolean);
    var cats = {};
    categories.forEach(function (c) { cats[c.id] = c; });
    var named = [], inText = [];
    everything.forEach(function (s) {
      if (category && s.category !== category) return;
      var c = cats[s.category] || { title: "", synonyms: [] };
      var names = [s.title].concat(s.synonyms || [], c.synonyms || [], [c.title]).join(" ").toLowerCase();
      var all = names + " " + s.text.toLowerCase();
      if (!words.every(function (w) { return all.indexOf(w) >= 0; })) return;
      (!words.length || words.some(function (w) { return names.indexOf(w) >= 0; }) ? named : inText).push(s);
    });
    return { scripts: named.concat(inText), total: everything.length };
  }

  function search() {
    var q = $("script-search").value.trim();
    var category = $("script-category").value;
    var mine = ++asked;
    var path = "/api/scripts?q=" + encodeURIComponent(q) + "&category=" + encodeURIComponent(category);
    return opts.call("GET", path).then(function (data) {
      if (mine !== asked) return data;  // a later search already answered
      render(data);
      return data;
    });
  }

  function controls() {
    var input = $("script-search");
    input.placeholder = "搜索话术:标题、关键词或分类(如 延误、退款)";
    var select = el("select");
    select.id = "script-category";
    select.setAttribute("aria-label", "话术分类");
    input.insertAdjacentElement("afterend", select);
    var count = el("span", "script-count");
    count.id = "script-count";
    select.insertAdjacentElement("afterend", count);
    function narrow() {
      if (everything.length) render(localSearch(input.value.trim(), select.value));
      clearTimeout(searchTimer);
      searchTimer = setTimeout(function () {
        search().catch(function () { /* the list narrowed here stays */ });
      }, 120);
    }
    input.addEventListener("input", narrow);
    select.addEventListener("change", narrow);
  }

  window.KefuScripts = {
    // opts: {call(method, path), ticket() -> the open chat, insert(text)}. Resolves to the first answer.
    attach: function (options) {
      opts = options;
      if (!$("script-category")) controls();
      return opts.call("GET", "/api/scripts").then(function (data) {  // the whole list, once
        categories = data.categories || [];
        everything = data.scripts || [];
        var select = $("script-category");
        var chosen = select.value;
        select.textContent = "";
        select.appendChild(el("option", "", "全部分类"));
        select.firstChild.value = "";
        categories.forEach(function (c) {
          var option = el("option", "", c.title);
          option.value = c.id;
          select.appendChild(option);
        });
        select.value = chosen;
        var q = $("script-search").value.trim();
        render(localSearch(q, select.value));
        if (q) search().catch(function () { /* the list narrowed here stays */ });
        return data;
      });
    },
    // Re-draw for another chat (its own variables), and forget a half-filled form.
    refresh: function () { closeForm(); if (opts) render(lastData); },
    // Why a reply cannot go out as it is (for the composer's warning).
    problems: function (text) {
      var left = [];
      String(text).replace(PLACEHOLDER, function (all, name) {
        if (left.indexOf(all) < 0) left.push(all + (labels[name] ? "(" + labels[name] + ")" : ""));
        return all;
      });
      return left.length ? ["回复里还有未填写的变量 " + left.join("、") + ",请填写后再发送"] : [];
    }
  };
})();
