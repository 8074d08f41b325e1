/* budgetgen serve: the editor page's script (plain JS, no framework, nothing fetched).
   Every change goes to the server, which edits the file's text in place, checks it with the
   same pipeline as `budgetgen check` and answers with the problems, the totals (as HTML made
   by the server) and whether the preview changed. Messages are set as text, never as HTML. */
(function () {
  "use strict";
  var body = document.body;
  var TOKEN = body.dataset.token;
  var FILE = body.dataset.file;
  var $ = function (id) { return document.getElementById(id); };

  function post(url, data, raw) {
    var headers = { "X-Budgetgen-Token": TOKEN };
    if (!raw) headers["Content-Type"] = "application/json";
    return fetch(url, { method: "POST", headers: headers, body: raw ? data : JSON.stringify(data),
                        credentials: "same-origin" })
      .then(function (r) {
        return r.json().catch(function () { return { message: "服务器没有回答（" + r.status + "）" }; })
          .then(function (j) { j._status = r.status; return j; });
      });
  }
  function notice(text, kind) {
    var n = $("notice");
    if (!n) return;
    n.textContent = text;
    n.className = "notice " + (kind || "");
    n.hidden = !text;
    clearTimeout(notice.t);
    if (text && kind !== "error") notice.t = setTimeout(function () { n.hidden = true; }, 6000);
  }

  /* ------------------------------------------------------------------ the folder page */
  if (!FILE) {
    var nf = $("new-form"), imf = $("import-form");
    if (nf) nf.addEventListener("submit", function (e) {
      e.preventDefault();
      var d = new FormData(nf);
      post("/api/new", { name: d.get("name"), edition: d.get("edition"), year: d.get("year") }).then(function (j) {
        if (j.url) location.href = j.url; else notice(j.message, "error");
      });
    });
    if (imf) imf.addEventListener("submit", function (e) {
      e.preventDefault();
      var file = imf.querySelector("input[type=file]").files[0];
      var name = imf.querySelector("input[name=name]").value;
      if (!file) return;
      notice("正在导入…");
      post("/api/import?name=" + encodeURIComponent(name) + "&book=" + encodeURIComponent(file.name), file, true)
        .then(function (j) { if (j.url) location.href = j.url; else notice(j.message, "error"); });
    });
    return;
  }

  /* ------------------------------------------------------------------ tabs and navigation */
  function showTab(key) {
    var found = false;
    document.querySelectorAll(".section").forEach(function (s) {
      var on = s.dataset.section === key;
      s.classList.toggle("active", on);
      found = found || on;
    });
    if (!found) return showTab(document.querySelector(".tab").dataset.tab);
    document.querySelectorAll(".tab").forEach(function (t) { t.classList.toggle("active", t.dataset.tab === key); });
    sessionStorage.setItem("tab:" + FILE, key);
    showInPreview(key);
    if (location.hash !== "#" + key) history.replaceState(null, "", "#" + key);
  }
  $("tabs").addEventListener("click", function (e) {
    var t = e.target.closest(".tab");
    if (t) showTab(t.dataset.tab);
  });
  $("status").addEventListener("click", function () { showTab("_problems"); });
  function goToField(id) {
    var el = $(nearest(id));
    if (!el) return;
    var sec = el.closest(".section");
    if (sec) showTab(sec.dataset.section);
    var card = el.closest("details");
    if (card) card.open = true;
    el.scrollIntoView({ block: "center" });
    if (el.focus) el.focus();
  }
  document.addEventListener("click", function (e) {
    var a = e.target.closest("a[data-field]");
    if (a) { e.preventDefault(); goToField(a.dataset.field); }
  });

  /* ------------------------------------------------------------------ state from the server */
  var rev = +body.dataset.rev;
  var shownPreview = +body.dataset.rev;
  /* the field of a problem, or the nearest part of the form holding it (a row, a list, a section) */
  function nearest(id) {
    while (!$(id) && id.lastIndexOf("-") > 1) id = id.slice(0, id.lastIndexOf("-"));
    return $(id) ? id : "sec-" + id.slice(2).split("-")[0];
  }
  function setMarks(fields) {
    document.querySelectorAll(".has-error, .has-warning").forEach(function (el) {
      el.classList.remove("has-error", "has-warning");
    });
    document.querySelectorAll(".msg").forEach(function (m) { if (m.firstChild) m.textContent = ""; });
    Object.keys(fields).forEach(function (id) {
      id = nearest(id);
      var el = $(id), msg = $("msg-" + id);
      var list = fields[id];
      if (el && el.classList.contains("fld")) el.classList.add("has-" + list[0].severity);
      if (msg) list.forEach(function (p) {
        var s = document.createElement("span");
        s.className = p.severity;
        s.textContent = p.message;
        msg.appendChild(s);
      });
    });
  }
  function setBadges(fields) {
    var counts = {}, errors = {};
    Object.keys(fields).forEach(function (id) {
      var key = id.slice(2).split("-")[0];
      counts[key] = (counts[key] || 0) + fields[id].length;
      fields[id].forEach(function (p) { if (p.severity === "error") errors[key] = true; });
    });
    document.querySelectorAll(".tab .badge").forEach(function (b) {
      var key = b.id.slice(6);
      if (key === "_problems") return;
      b.textContent = counts[key] || "";
      b.hidden = !counts[key];
      b.classList.toggle("warn", !errors[key]);  // only warnings: not red
    });
  }
  function applyState(st) {
    if (st.rev === undefined) return;
    if (st.anchors) anchors = st.anchors;
    rev = st.rev;
    $("count-errors").textContent = "错误 " + st.errors;
    $("count-warnings").textContent = "警告 " + st.warnings;
    $("count-errors").classList.toggle("zero", !st.errors);
    $("count-warnings").classList.toggle("zero", !st.warnings);
    $("dirty").hidden = !st.dirty;
    $("undo").disabled = !st.undo;
    $("timing").textContent = "检查 " + st.seconds.toFixed(2) + " 秒";
    $("problems").innerHTML = st.problems_html;  // made by the server's template (escaped)
    var pb = $("badge-_problems");
    pb.textContent = st.errors + st.warnings || "";
    pb.hidden = !(st.errors + st.warnings);
    pb.classList.toggle("warn", !st.errors);
    setMarks(st.fields);
    setBadges(st.fields);
    document.querySelectorAll("details.card").forEach(function (card) {
      var n = card.querySelectorAll(".fld.has-error, .fld.has-warning").length;
      var b = card.querySelector(".card-badge");
      if (b) { b.textContent = n || ""; b.hidden = !n; b.classList.toggle("warn", !card.querySelector(".fld.has-error")); }
    });
    document.querySelectorAll(".computed").forEach(function (c) {
      var key = c.id.slice(9);
      if (st.computed[key] !== undefined) c.innerHTML = st.computed[key];
      else if (!st.ok) c.classList.add("stale");
    });
    var current = st.preview_rev === st.rev;
    document.querySelectorAll(".computed").forEach(function (c) { c.classList.toggle("stale", !current); });
    $("preview-state").textContent = !current ? "文件无法计算：预览与合计停在上一次能计算的版本"
      : (st.errors ? "文件有 " + st.errors + " 处错误：预览仅供核对，改正后才能生成 PDF/XLSX" : "");
    if (st.preview_rev !== shownPreview) { shownPreview = st.preview_rev; reloadPreview(); }
    if (st.external) showExternal();
  }
  /* the preview scrolls to the table or text the open section prints */
  var anchors = {};
  function showInPreview(key, index) {
    var doc;
    try { doc = $("preview").contentDocument; } catch (e) { return; }
    if (!doc) return;
    var id = index !== undefined && key === "projects" ? "proj-" + (index + 1) : anchors[key];
    var target = (id && doc.getElementById(id)) || doc.getElementById("sec-" + key) || doc.getElementById("tbl-" + key);
    if (target) target.scrollIntoView({ block: "start" });
  }
  document.addEventListener("toggle", function (e) {
    var card = e.target;
    if (card.open && card.classList && card.classList.contains("card")) {
      var sec = card.closest(".section");
      var ops = card.querySelector(".ops");
      if (sec && ops) showInPreview(sec.dataset.section, +ops.dataset.index);
    }
  }, true);
  function reloadPreview() {
    var f = $("preview");
    var y = 0;
    try { y = f.contentWindow.scrollY; } catch (e) { y = 0; }
    var asked = performance.now();
    f.onload = function () {
      try { f.contentWindow.scrollTo(0, y); } catch (e) { /* ignore */ }
      window.previewMs = performance.now() - asked;
    };
    f.src = "/preview?file=" + encodeURIComponent(FILE) + "&rev=" + shownPreview;
  }

  /* ------------------------------------------------------------------ edits */
  var queue = Promise.resolve();
  function send(changes, typing) {
    queue = queue.then(function () {
      return post("/api/edit", { file: FILE, changes: changes, typing: !!typing }).then(function (j) {
        if (j._status !== 200) {
          changes.forEach(function (c) {
            var el = $(c.id), msg = $("msg-" + c.id);
            if (el) el.classList.add("has-error");
            if (msg) { msg.textContent = ""; var s = document.createElement("span"); s.className = "error"; s.textContent = j.message; msg.appendChild(s); }
          });
          notice(j.message, "error");
          return;
        }
        notice("");
        applyState(j);
        Object.keys(j.values || {}).forEach(function (id) {
          var el = $(id);
          if (!el) return;
          el.dataset.normalized = j.values[id];
          if (el !== document.activeElement && el.value !== j.values[id]) { el.value = j.values[id]; el.dataset.sent = el.value; }
        });
      });
    });
    return queue;
  }
  /* A keystroke is sent at once when nothing is on its way to the server; while an answer is
     awaited, only the field's latest value is kept and sent when the answer arrives (no fixed
     delay, and never a queue of stale values). */
  var inFlight = 0, waiting = {};
  function fieldChanged(el) {
    if (el.dataset.sent === el.value) return;
    if (inFlight) { waiting[el.id] = el; return; }
    el.dataset.sent = el.value;
    inFlight++;
    send([{ id: el.id, value: el.value }], true).then(function () {
      inFlight--;
      var ids = Object.keys(waiting);
      var next = ids.length ? waiting[ids[0]] : null;
      if (next) { delete waiting[ids[0]]; fieldChanged(next); }
    });
  }
  document.querySelectorAll(".fld").forEach(function (el) { el.dataset.sent = el.value; });
  document.addEventListener("input", function (e) {
    var el = e.target;
    if (el.tagName === "TEXTAREA" && el.scrollHeight > el.clientHeight) el.style.height = (el.scrollHeight + 2) + "px";
    if (!el.classList || !el.classList.contains("fld")) return;
    if (el.dataset.kind === "fcode" || el.dataset.kind === "ecode") { pick(el); return; }
    fieldChanged(el);
  });
  document.addEventListener("change", function (e) {
    var el = e.target;
    if (el.classList && el.classList.contains("fld")) fieldChanged(el);
  });

  /* ------------------------------------------------------------------ rows: add, remove, move */
  function keepPlaceAndReload() {
    sessionStorage.setItem("scroll:" + FILE, String(document.querySelector(".forms").scrollTop));
    location.reload();
  }
  document.addEventListener("click", function (e) {
    var b = e.target.closest("button[data-op]");
    if (!b) return;
    e.preventDefault();
    var box = b.closest("[data-list]");
    var data = { file: FILE, op: b.dataset.op, list: box.dataset.list };
    if (box.dataset.index !== undefined) data.index = +box.dataset.index;
    queue = queue.then(function () {
      return post("/api/rows", data).then(function (j) {
        if (j._status !== 200) notice(j.message, "error"); else keepPlaceAndReload();
      });
    });
  });

  /* ------------------------------------------------------------------ undo, save, external edits */
  function undo() {
    queue = queue.then(function () {
      return post("/api/undo", { file: FILE }).then(function (j) {
        if (j._status !== 200) notice(j.message, "error"); else keepPlaceAndReload();
      });
    });
  }
  $("undo").addEventListener("click", undo);
  function save(overwrite) {
    queue = queue.then(function () {
      return post("/api/save", { file: FILE, overwrite: !!overwrite }).then(function (j) {
        if (j._status === 409) { showExternal(j.message); return; }
        if (j._status !== 200) { notice(j.message, "error"); return; }
        $("banner").hidden = true;
        applyState(j);
        notice(j.message, "ok");
      });
    });
  }
  $("save").addEventListener("click", function () { save(false); });
  function showExternal(text) {
    if (!$("banner").hidden || showExternal.later) return;
    $("banner-text").textContent = text || "文件已在页面之外被修改（例如在文本编辑器中）。";
    $("banner").hidden = false;
  }
  $("take-disk").addEventListener("click", function () {
    post("/api/reload", { file: FILE }).then(function () { keepPlaceAndReload(); });
  });
  $("keep-mine").addEventListener("click", function () { $("banner").hidden = true; save(true); });
  $("banner-later").addEventListener("click", function () { $("banner").hidden = true; showExternal.later = true; });
  setInterval(function () {
    if (document.hidden) return;
    fetch("/api/state?light=1&file=" + encodeURIComponent(FILE), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (j) { if (j.external) showExternal(); else showExternal.later = false; })
      .catch(function () { /* the server stopped: nothing to do */ });
  }, 3000);
  document.addEventListener("keydown", function (e) {
    var inField = e.target.closest && e.target.closest("input, textarea, select");
    if ((e.ctrlKey || e.metaKey) && e.key === "s") { e.preventDefault(); save(false); }
    else if ((e.ctrlKey || e.metaKey) && e.key === "z" && !e.shiftKey && !inField) { e.preventDefault(); undo(); }
  });

  /* ------------------------------------------------------------------ PDF and XLSX */
  function pollJob() {
    fetch("/api/render?file=" + encodeURIComponent(FILE), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (j) {
        $("job").innerHTML = j.html;  // the server's template (escaped)
        if (j.status === "running") setTimeout(pollJob, 700);
      });
  }
  function render(formats) {
    post("/api/render", { file: FILE, formats: formats }).then(function (j) {
      if (j.html !== undefined) $("job").innerHTML = j.html;
      pollJob();
    });
  }
  $("render").addEventListener("click", function () { render(["pdf", "xlsx"]); });

  /* ------------------------------------------------------------------ keyboard in tables, paste */
  function cellOf(el) {
    var td = el.closest("td"), tr = el.closest("tr");
    if (!td || !tr || !tr.closest("table.grid")) return null;
    return { row: tr, col: Array.prototype.indexOf.call(tr.children, td) };
  }
  function fieldAt(tr, col) {
    if (!tr || !tr.children[col]) return null;
    return tr.children[col].querySelector(".fld");
  }
  document.addEventListener("keydown", function (e) {
    var el = e.target;
    if (!el.classList || !el.classList.contains("fld") || !$("picker").hidden) return;
    var c = cellOf(el);
    if (!c) return;
    var next = null;
    var atStart = el.selectionStart === 0 && el.selectionEnd === 0;
    var atEnd = el.selectionStart === (el.value || "").length;
    if (e.key === "ArrowDown" || (e.key === "Enter" && el.tagName !== "TEXTAREA")) next = fieldAt(c.row.nextElementSibling, c.col);
    else if (e.key === "ArrowUp") next = fieldAt(c.row.previousElementSibling, c.col);
    else if (e.key === "ArrowLeft" && atStart) {
      for (var i = c.col - 1; i >= 0 && !next; i--) next = fieldAt(c.row, i);
    } else if (e.key === "ArrowRight" && atEnd) {
      for (var k = c.col + 1; k < c.row.children.length && !next; k++) next = fieldAt(c.row, k);
    }
    if (el.tagName === "SELECT" && (e.key === "ArrowDown" || e.key === "ArrowUp")) return;
    if (next) { e.preventDefault(); fieldChanged(el); next.focus(); if (next.select) next.select(); }
  });
  document.addEventListener("paste", function (e) {
    var el = e.target;
    if (!el.classList || !el.classList.contains("fld")) return;
    var c = cellOf(el);
    var text = (e.clipboardData || window.clipboardData).getData("text/plain");
    if (!c || !/[\t\n]/.test(text.replace(/\r?\n$/, ""))) return;
    e.preventDefault();
    var lines = text.replace(/\r/g, "").replace(/\n$/, "").split("\n");
    var changes = [], tr = c.row, last = c.row, extra = 0;
    var list = c.row.closest("table.grid").dataset.list;
    var index = +c.row.dataset.index;
    lines.forEach(function (line, i) {
      line.split("\t").forEach(function (value, j) {
        var f = fieldAt(tr || last, c.col + j);
        if (!f || f.tagName === "SELECT") return;
        value = value.trim();
        if (tr) { f.value = value; f.dataset.sent = value; }
        // a row below the table: the same column of a new row (the server adds the rows)
        var id = tr ? f.id : list + "-" + (index + i) + f.id.slice((list + "-" + last.dataset.index).length);
        changes.push({ id: id, value: value });
      });
      if (tr) { last = tr; tr = tr.nextElementSibling; } else extra++;
    });
    if (!changes.length) return;
    queue = queue.then(function () {
      return post("/api/edit", { file: FILE, changes: changes, grow: extra > 0 }).then(function (j) {
        if (j._status !== 200) { notice(j.message, "error"); return; }
        if (extra) { keepPlaceAndReload(); return; }
        applyState(j);
        notice("已粘贴 " + lines.length + " 行", "ok");
      });
    });
  });

  /* ------------------------------------------------------------------ the 功能分类 code picker */
  var picking = null, pickTimer = null;
  var picker = $("picker");
  function pick(el) {
    picking = el;
    clearTimeout(pickTimer);
    pickTimer = setTimeout(function () {
      var q = el.value.trim();
      if (!q) { picker.hidden = true; return; }
      fetch("/api/codes?kind=" + el.dataset.kind + "&file=" + encodeURIComponent(FILE) + "&q=" + encodeURIComponent(q),
            { credentials: "same-origin" })
        .then(function (r) { return r.text(); })
        .then(function (html) {
          if (picking !== el) return;
          picker.innerHTML = html;  // the server's template (escaped)
          var r = el.getBoundingClientRect();
          picker.style.left = (r.left + window.scrollX) + "px";
          picker.style.top = (r.bottom + window.scrollY + 2) + "px";
          picker.hidden = false;
          var first = picker.querySelector("li");
          if (first) first.classList.add("active");
        });
    }, 150);
  }
  function choose(li) {
    var el = picking;
    picker.hidden = true;
    if (!el || !li) return;
    el.value = li.dataset.code;
    fieldChanged(el);
    var name = el.closest("tr") && el.closest("tr").querySelector("[id$='-name']");
    if (name && !name.value) { name.value = li.dataset.name; fieldChanged(name); }
  }
  picker.addEventListener("mousedown", function (e) {
    var li = e.target.closest("li");
    if (li) { e.preventDefault(); choose(li); }
  });
  document.addEventListener("keydown", function (e) {
    if (picker.hidden || e.target !== picking) return;
    var items = Array.prototype.slice.call(picker.querySelectorAll("li"));
    var i = items.findIndex(function (x) { return x.classList.contains("active"); });
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      if (i >= 0) items[i].classList.remove("active");
      i = Math.max(0, Math.min(items.length - 1, i + (e.key === "ArrowDown" ? 1 : -1)));
      if (items[i]) { items[i].classList.add("active"); items[i].scrollIntoView({ block: "nearest" }); }
    } else if (e.key === "Enter") {
      e.preventDefault();
      if (items[i]) choose(items[i]); else { picker.hidden = true; fieldChanged(picking); }
    } else if (e.key === "Escape") { picker.hidden = true; }
  });
  document.addEventListener("focusout", function (e) {
    var el = e.target;
    // an amount typed as 1,600.00 shows as the file holds it once the clerk leaves the field
    if (el.dataset && el.dataset.normalized !== undefined && el.value === el.dataset.sent) {
      el.value = el.dataset.normalized;
      el.dataset.sent = el.value;
    }
  });
  document.addEventListener("focusout", function (e) {
    if (e.target === picking) setTimeout(function () {
      if (!picker.hidden) { picker.hidden = true; }
      fieldChanged(e.target);
    }, 150);
  });

  /* ------------------------------------------------------------------ start */
  var start = (location.hash || "").slice(1) || sessionStorage.getItem("tab:" + FILE) || "department";
  if (start.indexOf("f-") === 0) goToField(start); else showTab(start);
  var sc = sessionStorage.getItem("scroll:" + FILE);
  if (sc) { document.querySelector(".forms").scrollTop = +sc; sessionStorage.removeItem("scroll:" + FILE); }
  var currentTab = function () { var t = document.querySelector(".tab.active"); return t ? t.dataset.tab : ""; };
  $("preview").addEventListener("load", function first() {
    $("preview").removeEventListener("load", first);
    showInPreview(currentTab());
  });
  fetch("/api/state?file=" + encodeURIComponent(FILE), { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (st) { applyState(st); showInPreview(currentTab()); });
})();
