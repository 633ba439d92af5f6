// Console 2.0: search in the reply box (canned replies and knowledge-base articles, keyboard first) and
// opt-in notifications of new hand-offs (browser notification + short sound; only counts are fetched, no content).
(function () {
  "use strict";

  // --- reply box: type → list → Enter inserts ------------------------------------------------------------
  var box = document.getElementById("snippet-search");
  var reply = document.getElementById("reply-text");
  if (box && reply) {
    var input = document.getElementById("snippet-q");
    var list = document.getElementById("snippet-list");
    var status = document.getElementById("snippet-status");
    var items = [];
    var active = -1;
    var timer = null;
    var seq = 0;
    box.hidden = false;

    var get = function (url) {
      return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : []; })
        .catch(function () { return []; });
    };
    var close = function () {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    };
    var mark = function (index) {
      active = index;
      Array.prototype.forEach.call(list.children, function (li, i) {
        li.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      if (index >= 0 && list.children[index]) {
        input.setAttribute("aria-activedescendant", list.children[index].id);
        list.children[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    };
    var show = function (found) {
      items = found;
      list.textContent = "";
      found.forEach(function (item, i) {
        var li = document.createElement("li");
        li.id = "snippet-option-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        var kind = document.createElement("span");
        kind.className = "snippet-kind";
        kind.textContent = item.kind === "artikel" ? "Artikel" : "Textbaustein";
        var title = document.createElement("span");
        title.className = "snippet-title";
        title.textContent = item.title;  // text only: titles are written by people
        li.appendChild(kind);
        li.appendChild(title);
        li.addEventListener("mousedown", function (e) { e.preventDefault(); insert(i); });
        list.appendChild(li);
      });
      list.hidden = found.length === 0;
      input.setAttribute("aria-expanded", found.length ? "true" : "false");
      status.textContent = found.length ? found.length + " Treffer" : "Keine Treffer";
      mark(found.length ? 0 : -1);
    };
    var search = function () {
      var q = input.value.trim();
      var mine = ++seq;
      if (q.length < 2) { close(); items = []; return; }
      var enc = encodeURIComponent(q);
      Promise.all([get("/api/v1/textbausteine?q=" + enc), get("/api/v1/articles?q=" + enc)]).then(function (res) {
        if (mine === seq) { show(res[0].concat(res[1])); }
      });
    };
    var insert = function (index) {
      var item = items[index];
      if (!item) { return; }
      var start = reply.selectionStart, end = reply.selectionEnd, value = reply.value;
      if (typeof start !== "number" || document.activeElement !== reply && value === "") { start = end = value.length; }
      var before = value.slice(0, start), after = value.slice(end);
      var text = (before && !/\n$/.test(before) ? "\n\n" : "") + item.text;
      reply.value = (before + text + after).slice(0, reply.maxLength > 0 ? reply.maxLength : undefined);
      var caret = Math.min(before.length + text.length, reply.value.length);
      close();
      input.value = "";
      status.textContent = "„" + item.title + "“ eingefügt";
      reply.focus();
      reply.setSelectionRange(caret, caret);
    };
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(search, 200);
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        if (list.hidden) { search(); return; }
        var n = items.length;
        if (n) { mark((active + (e.key === "ArrowDown" ? 1 : n - 1)) % n); }
      } else if (e.key === "Enter") {
        e.preventDefault();  // never submits anything
        if (!list.hidden && active >= 0) { insert(active); }
      } else if (e.key === "Escape") {
        if (!list.hidden) { e.preventDefault(); close(); }
      }
    });
    input.addEventListener("blur", function () { window.setTimeout(close, 150); });
  }

  // --- notifications of new hand-offs (opt-in) ---------------------------------------------------------------
  var button = document.getElementById("notify-optin");
  if (!button || !("Notification" in window) || !window.fetch) { return; }
  var ON = "console-notify", LAST = "console-notify-last", POLL_MS = 10000;
  var say = document.getElementById("notify-status");
  var audio = null;
  var store = function (key, value) { try { window.localStorage.setItem(key, value); } catch (e) { /* ignore */ } };
  var load = function (key) { try { return window.localStorage.getItem(key); } catch (e) { return null; } };
  var enabled = function () { return load(ON) === "on" && Notification.permission === "granted"; };
  var label = function () {
    var on = enabled();
    button.textContent = on ? "Benachrichtigungen an" : "Benachrichtigungen einschalten";
    button.setAttribute("aria-pressed", on ? "true" : "false");
    button.title = on ? "Klicken schaltet die Benachrichtigungen aus" : "Neue Übergaben mit Hinweis und Ton melden";
  };
  var beep = function () {
    try {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) { return; }
      audio = audio || new Ctx();
      if (audio.state === "suspended") { audio.resume(); }
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.15, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.35);
      osc.connect(gain);
      gain.connect(audio.destination);
      osc.start();
      osc.stop(audio.currentTime + 0.35);
    } catch (e) { /* no sound then */ }
  };
  var poll = function () {
    if (!enabled()) { return; }
    fetch("/api/v1/inbox/summary", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        var newest = data.newest_waiting_id || 0;
        var last = parseInt(load(LAST) || "-1", 10);
        store(LAST, String(Math.max(newest, last)));
        if (last < 0 || newest <= last) { return; }
        var text = "Übergabe #" + newest + " wartet (" + data.waiting + " wartend)";
        say.textContent = "Neue Übergabe: " + text;
        try {
          var note = new Notification("Neue Übergabe in der Beratungskonsole", { body: text, tag: "handoff-" + newest });
          note.onclick = function () { window.focus(); window.location.href = "/handoffs/" + newest; };
        } catch (e) { /* shown in the page only */ }
        beep();
      })
      .catch(function () { /* offline: try again later */ });
  };
  button.closest(".notify-toggle").hidden = false;
  label();
  button.addEventListener("click", function () {
    if (enabled()) {
      store(ON, "off");
      label();
      say.textContent = "Benachrichtigungen ausgeschaltet";
      return;
    }
    Notification.requestPermission().then(function (permission) {
      if (permission === "granted") {
        store(ON, "on");
        beep();  // the click allows sound; later sounds reuse this audio context
        say.textContent = "Benachrichtigungen eingeschaltet";
        poll();
      } else {
        say.textContent = "Der Browser erlaubt keine Benachrichtigungen für diese Seite.";
      }
      label();
    });
  });
  poll();
  window.setInterval(poll, POLL_MS);
})();
