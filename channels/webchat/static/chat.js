// Web chat of the Berufsorientierungs-Assistent Hessen. The browser talks to Rasa's REST channel directly:
// POST {rasa}/webhooks/rest/webhook for every message, GET {rasa}/webhooks/rest/outbox every few seconds while
// the page is visible (adviser replies during a hand-off, the bot's "I'm back"); displayed outbox messages are
// confirmed with POST {rasa}/webhooks/rest/outbox/ack. The conversation is identified by the secret token the
// server issues with the first answer (header X-Conversation-Token), never by an id the page chooses.
// Message text is only ever inserted as text nodes; links are built as <a> elements (http/https only).
(function () {
  "use strict";

  var SESSION_KEY = "bo-hessen-webchat-session";
  var HISTORY_KEY = "bo-hessen-webchat-history";
  var TOKEN_HEADER = "X-Conversation-Token";
  var TOKEN_PATTERN = /^v1\.[A-Za-z0-9_-]{1,400}\.[A-Za-z0-9_-]{20,100}$/;
  var SEND_TIMEOUT_MS = 45000;
  var POLL_TIMEOUT_MS = 10000;
  var LABELS = { user: "Du", bot: "Assistent", adviser: "Beratung" };
  var TEXTS = {
    typing: "Der Assistent schreibt …",
    unreachable: "Der Assistent ist gerade nicht erreichbar. Bitte versuch es gleich noch einmal.",
    empty: "Bitte schreib zuerst eine Nachricht.",
    newStarted: "Neues Gespräch gestartet.",
    deleted: "Das Gespräch wurde gelöscht. Ab jetzt beginnt ein neues Gespräch.",
    image: "Bild öffnen",
    exportLink: "Meine Daten herunterladen (JSON-Datei)",
    remembered: "Der Verlauf bleibt auf diesem Gerät, bis du ihn löschst oder das Häkchen entfernst.",
    forgotten: "Der Verlauf bleibt nur in diesem Tab. Schließt du ihn, ist er hier weg.",
    buttons: "Antwortmöglichkeiten",
    tooLong: function (max) {
      return "Deine Nachricht ist zu lang. Bitte kürze sie auf höchstens " + max + " Zeichen.";
    },
    counter: function (count, max) {
      return count + " von " + max + " Zeichen" + (count > max ? " – zu lang" : "");
    }
  };

  var main = document.getElementById("chat");
  if (!main) { return; }
  var config = {
    rasaUrl: (main.getAttribute("data-rasa-url") || "").replace(/\/+$/, ""),
    pollMs: Math.max(1, parseFloat(main.getAttribute("data-poll-seconds") || "4")) * 1000,
    maxLength: parseInt(main.getAttribute("data-max-length") || "2000", 10),
    historyLimit: parseInt(main.getAttribute("data-history-limit") || "200", 10)
  };
  var el = {
    conversation: document.getElementById("conversation"),
    log: document.getElementById("messages"),
    status: document.getElementById("status"),
    error: document.getElementById("error"),
    form: document.getElementById("composer"),
    input: document.getElementById("message-input"),
    send: document.getElementById("send"),
    counter: document.getElementById("message-counter"),
    newChat: document.getElementById("new-chat"),
    confirm: document.getElementById("new-chat-confirm"),
    confirmYes: document.getElementById("new-chat-yes"),
    confirmNo: document.getElementById("new-chat-no")
  };
  var reducedMotion = window.matchMedia ? window.matchMedia("(prefers-reduced-motion: reduce)") : null;

  // --- storage: sessionStorage (this tab only) by default; localStorage only after the user ticked "Auf diesem
  // Gerät merken" (that choice itself is kept in localStorage). Unticking wipes localStorage. Memory only when
  // storage is unavailable (private mode, blocked). ---------------------------------------------------------

  var REMEMBER_KEY = "bo-hessen-webchat-remember";
  var STORED_KEYS = [SESSION_KEY, HISTORY_KEY];
  var memory = {};
  function area(name) {
    try { return window[name]; } catch (e) { return null; }
  }
  function remembered() {
    try { return area("localStorage").getItem(REMEMBER_KEY) === "1"; } catch (e) { return false; }
  }
  var storage = {
    remember: remembered(),
    current: function () { return area(storage.remember ? "localStorage" : "sessionStorage"); },
    get: function (key) {
      try { return storage.current().getItem(key); } catch (e) { return memory[key] || null; }
    },
    set: function (key, value) {
      memory[key] = value;
      try { storage.current().setItem(key, value); } catch (e) { /* memory only */ }
    },
    // The user's explicit choice: move what is stored to the other area and wipe the one left.
    choose: function (remember) {
      var values = {};
      STORED_KEYS.forEach(function (key) { values[key] = storage.get(key); });
      try {
        var local = area("localStorage");
        STORED_KEYS.forEach(function (key) { local.removeItem(key); });
        if (remember) { local.setItem(REMEMBER_KEY, "1"); } else { local.removeItem(REMEMBER_KEY); }
      } catch (e) { /* nothing stored there */ }
      try { STORED_KEYS.forEach(function (key) { area("sessionStorage").removeItem(key); }); } catch (e) { /* none */ }
      storage.remember = remember;
      STORED_KEYS.forEach(function (key) { if (values[key] !== null) { storage.set(key, values[key]); } });
    }
  };

  // The conversation token, or "" before the first answer (then the server starts a new conversation).
  function loadSession() {
    var token = storage.get(SESSION_KEY);
    return token && TOKEN_PATTERN.test(token) ? token : "";
  }

  function setSession(token) {
    session = token;
    storage.set(SESSION_KEY, token);
    saveHistory();
  }

  function cleanEntry(entry) {
    if (!entry || typeof entry !== "object" || !LABELS.hasOwnProperty(entry.who)) { return null; }
    var clean = { who: entry.who, text: typeof entry.text === "string" ? entry.text : "" };
    clean.buttons = Array.isArray(entry.buttons) ? entry.buttons.map(cleanButton).filter(Boolean) : [];
    clean.image = typeof entry.image === "string" && safeHref(entry.image) ? entry.image : "";
    return clean.text || clean.buttons.length || clean.image ? clean : null;
  }

  function cleanButton(button) {
    if (!button || typeof button !== "object" || typeof button.title !== "string" || !button.title) { return null; }
    var payload = typeof button.payload === "string" && button.payload ? button.payload : button.title;
    return { title: button.title, payload: payload };
  }

  function loadHistory(sender) {
    var stored = null;
    try { stored = JSON.parse(storage.get(HISTORY_KEY) || "null"); } catch (e) { stored = null; }
    if (!stored || stored.sender !== sender || !Array.isArray(stored.messages)) { return []; }
    return stored.messages.map(cleanEntry).filter(Boolean);
  }

  function saveHistory() {
    history = history.slice(-config.historyLimit);
    storage.set(HISTORY_KEY, JSON.stringify({ sender: session, messages: history }));
  }

  var session = loadSession();
  var history = loadHistory(session);
  var busy = false;
  var polling = false;
  var shownOutbox = {};  // outbox ids displayed in this page (a message is shown once even before it is confirmed)

  // --- rendering ---------------------------------------------------------------------------------------

  var URL_PATTERN = /https?:\/\/[^\s<>"]+/gi;

  function safeHref(raw) {
    try {
      var url = new URL(raw);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function count(text, ch) { return text.split(ch).length - 1; }

  // Punctuation at the end belongs to the sentence; a closing bracket only when the URL has no opening one.
  function trimUrl(url) {
    while (/[.,;:!?'"»«“”‘’)\]]$/.test(url)) {
      var last = url.slice(-1);
      if (last === ")" && count(url, "(") >= count(url, ")")) { break; }
      if (last === "]" && count(url, "[") >= count(url, "]")) { break; }
      url = url.slice(0, -1);
    }
    return url;
  }

  function appendText(parent, text) {
    var last = 0;
    var match;
    URL_PATTERN.lastIndex = 0;
    while ((match = URL_PATTERN.exec(text)) !== null) {
      var raw = trimUrl(match[0]);
      var href = raw ? safeHref(raw) : null;
      if (!href) { continue; }
      if (match.index > last) { parent.appendChild(document.createTextNode(text.slice(last, match.index))); }
      parent.appendChild(link(href, raw));
      last = match.index + raw.length;
      URL_PATTERN.lastIndex = last;
    }
    if (last < text.length) { parent.appendChild(document.createTextNode(text.slice(last))); }
  }

  function link(href, label) {
    var a = document.createElement("a");
    a.href = href;
    a.textContent = label;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    return a;
  }

  function renderButtons(buttons) {
    var group = document.createElement("div");
    group.className = "msg-buttons";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", TEXTS.buttons);
    buttons.forEach(function (button) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = button.title;
      b.disabled = busy;
      b.addEventListener("click", function () { send(button.payload, button.title, false); });
      group.appendChild(b);
    });
    return group;
  }

  function renderEntry(entry, withButtons) {
    var item = document.createElement("div");
    item.className = "msg msg-" + entry.who;
    // who wrote it: for screen readers always ("Du: …"), visible for advisers ("Beratung")
    var label = document.createElement("span");
    label.className = entry.who === "adviser" ? "msg-label" : "visually-hidden";
    label.textContent = LABELS[entry.who];
    item.appendChild(label);
    var colon = document.createElement("span");
    colon.className = "visually-hidden";
    colon.textContent = ": ";
    item.appendChild(colon);
    if (entry.text) {
      var body = document.createElement("div");
      body.className = "msg-text";
      appendText(body, entry.text);
      item.appendChild(body);
    }
    if (entry.image) {
      var p = document.createElement("p");
      p.className = "msg-text";
      p.appendChild(link(safeHref(entry.image), TEXTS.image));
      item.appendChild(p);
    }
    if (withButtons && entry.buttons.length) { item.appendChild(renderButtons(entry.buttons)); }
    return item;
  }

  function scrollToEnd() {
    var smooth = !(reducedMotion && reducedMotion.matches);
    var top = el.conversation.scrollHeight;
    if (typeof el.conversation.scrollTo === "function") {
      el.conversation.scrollTo({ top: top, behavior: smooth ? "smooth" : "auto" });
    } else {
      el.conversation.scrollTop = top;
    }
  }

  // Buttons are offered only for the bot messages after the last user message (older ones are answered).
  function renderAll() {
    el.log.setAttribute("aria-busy", "true");
    el.log.textContent = "";
    var lastUser = -1;
    history.forEach(function (entry, i) { if (entry.who === "user") { lastUser = i; } });
    history.forEach(function (entry, i) { el.log.appendChild(renderEntry(entry, i > lastUser)); });
    el.log.setAttribute("aria-busy", "false");
    scrollToEnd();
  }

  function addEntry(entry) {
    history.push(entry);
    saveHistory();
    el.log.appendChild(renderEntry(entry, true));
    scrollToEnd();
  }

  function removeOfferedButtons() {
    Array.prototype.forEach.call(el.log.querySelectorAll(".msg-buttons"), function (group) { group.remove(); });
  }

  // --- state of the page -------------------------------------------------------------------------------

  function setBusy(value) {
    busy = value;
    el.input.readOnly = value;
    el.send.disabled = value;
    el.log.setAttribute("aria-busy", value ? "true" : "false");
    Array.prototype.forEach.call(el.log.querySelectorAll(".msg-buttons button"), function (b) { b.disabled = value; });
    el.status.textContent = value ? TEXTS.typing : "";
    main.classList.toggle("is-busy", value);
  }

  function showError(text) {
    el.error.textContent = text;
    el.error.hidden = false;
  }

  function hideError() {
    el.error.hidden = true;
    el.error.textContent = "";
  }

  function length(text) { return Array.from(text).length; }  // characters, not UTF-16 units

  function updateCounter() {
    var n = length(el.input.value);
    el.counter.textContent = TEXTS.counter(n, config.maxLength);
    el.counter.classList.toggle("over", n > config.maxLength);
    el.input.setAttribute("aria-invalid", n > config.maxLength ? "true" : "false");
  }

  function startNewSession() {
    history = [];
    shownOutbox = {};
    setSession("");
    el.log.textContent = "";
    hideError();
  }

  function hasUserMessage() {
    return history.some(function (entry) { return entry.who === "user"; });
  }

  // --- talking to Rasa ---------------------------------------------------------------------------------

  function requestJson(url, options, timeoutMs) {
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var timer = controller ? window.setTimeout(function () { controller.abort(); }, timeoutMs) : null;
    options.signal = controller ? controller.signal : undefined;
    options.credentials = "omit";
    options.cache = "no-store";
    return window.fetch(url, options).then(function (response) {
      if (!response.ok) {
        var error = new Error("HTTP " + response.status);
        error.status = response.status;
        throw error;
      }
      var token = response.headers.get(TOKEN_HEADER) || "";
      return response.json().then(function (body) { return { body: body, token: token }; });
    }).then(function (result) {
      window.clearTimeout(timer);
      return result;
    }, function (error) {
      window.clearTimeout(timer);
      throw error;
    });
  }

  function isDeletion(message) {
    return !!(message && message.custom && typeof message.custom === "object" &&
              message.custom.conversation_deleted === true);
  }

  function toEntry(message) {
    if (!message || typeof message !== "object") { return null; }
    var custom = message.custom && typeof message.custom === "object" ? message.custom : null;
    return cleanEntry({
      who: custom && custom.from === "adviser" ? "adviser" : "bot",
      text: message.text,
      buttons: message.buttons,
      image: message.image
    });
  }

  // Bot messages from a reply or the outbox. The server deleted the conversation: new session, empty
  // history, only the messages of this reply (the confirmation) stay visible.
  function outboxId(message) {
    var custom = message && message.custom && typeof message.custom === "object" ? message.custom : null;
    return custom && typeof custom.outbox_id === "number" ? custom.outbox_id : null;
  }

  // "Meine Daten": the server sends the export as custom.data_export (rasa_plugins/export.py); offered as a
  // download made in the browser, not kept in the stored history.
  function exportOf(message) {
    var custom = message && message.custom && typeof message.custom === "object" ? message.custom : null;
    var data = custom ? custom.data_export : null;
    return data && typeof data === "object" && !Array.isArray(data) ? data : null;
  }

  function offerExport(data) {
    var item = document.createElement("div");
    item.className = "msg msg-bot msg-export";
    var a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
    a.download = "meine-daten.json";
    a.textContent = TEXTS.exportLink;
    item.appendChild(a);
    el.log.appendChild(item);
    scrollToEnd();
  }

  function handleMessages(messages, token) {
    if (!Array.isArray(messages)) { return; }
    var acknowledge = [];
    messages = messages.filter(function (message) {
      var id = outboxId(message);
      if (id === null) { return true; }
      acknowledge.push(id);
      if (shownOutbox[id]) { return false; }
      shownOutbox[id] = true;
      return true;
    });
    if (messages.some(isDeletion)) {
      startNewSession();
      el.status.textContent = TEXTS.deleted;
    }
    messages.map(toEntry).filter(Boolean).forEach(addEntry);
    messages.map(exportOf).filter(Boolean).forEach(offerExport);
    if (acknowledge.length && token) { confirmShown(token, acknowledge); }
  }

  function authHeaders(token, extra) {
    var headers = extra || {};
    if (token) { headers[TOKEN_HEADER] = token; }
    return headers;
  }

  // Displayed outbox messages are confirmed; until then the server keeps offering them (nothing is lost).
  function confirmShown(token, ids) {
    requestJson(config.rasaUrl + "/webhooks/rest/outbox/ack", {
      method: "POST",
      headers: authHeaders(token, { "Content-Type": "application/json" }),
      body: JSON.stringify({ ids: ids })
    }, POLL_TIMEOUT_MS).then(null, function () { /* quiet: confirmed with the next poll */ });
  }

  // The token is no longer accepted (server key changed): continue in a new conversation.
  function forgetRejectedToken(error, token) {
    if (error && error.status === 401 && token && token === session) { startNewSession(); }
  }

  function send(payload, shownText, fromInput) {
    if (busy) { return; }
    var sender = session;
    hideError();
    setBusy(true);
    var pending = renderEntry({ who: "user", text: shownText, buttons: [], image: "" }, false);
    pending.classList.add("msg-pending");
    el.log.appendChild(pending);
    scrollToEnd();
    requestJson(config.rasaUrl + "/webhooks/rest/webhook", {
      method: "POST",
      headers: authHeaders(sender, { "Content-Type": "application/json" }),
      body: JSON.stringify({ message: payload })
    }, SEND_TIMEOUT_MS).then(function (result) {
      pending.remove();
      setBusy(false);
      if (sender !== session) { return; }  // a new conversation was started meanwhile
      if (!sender && TOKEN_PATTERN.test(result.token)) { setSession(result.token); }
      var reply = result.body;
      removeOfferedButtons();
      addEntry({ who: "user", text: shownText, buttons: [], image: "" });
      if (fromInput) {
        el.input.value = "";
        updateCounter();
      }
      handleMessages(reply, session);
      el.input.focus();
    }, function (error) {
      pending.remove();  // not delivered: the text stays in the input (or the button stays offered)
      setBusy(false);
      forgetRejectedToken(error, sender);
      showError(TEXTS.unreachable);
      el.input.focus();
    });
  }

  function submitInput() {
    var text = el.input.value.trim();
    if (!text) {
      showError(TEXTS.empty);
      return;
    }
    if (length(text) > config.maxLength) {
      showError(TEXTS.tooLong(config.maxLength));
      return;
    }
    send(text, text, true);
  }

  function poll() {
    if (busy || polling || document.visibilityState !== "visible" || !session || !hasUserMessage()) { return; }
    var sender = session;
    polling = true;
    requestJson(config.rasaUrl + "/webhooks/rest/outbox", { method: "GET", headers: authHeaders(sender) },
                POLL_TIMEOUT_MS)
      .then(function (result) {
        if (sender === session) { handleMessages(result.body, sender); }
      }, function (error) { forgetRejectedToken(error, sender); /* else quiet: the next poll tries again */ })
      .then(function () { polling = false; });
  }

  // --- "Neues Gespräch": a two-step button ------------------------------------------------------------

  function showConfirm(show) {
    el.confirm.hidden = !show;
    el.newChat.setAttribute("aria-expanded", show ? "true" : "false");
    (show ? el.confirmYes : el.newChat).focus();
  }

  el.newChat.addEventListener("click", function () { showConfirm(el.confirm.hidden); });
  el.confirmNo.addEventListener("click", function () { showConfirm(false); });
  el.confirm.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { showConfirm(false); }
  });
  el.confirmYes.addEventListener("click", function () {
    startNewSession();
    el.confirm.hidden = true;
    el.newChat.setAttribute("aria-expanded", "false");
    el.status.textContent = TEXTS.newStarted;
    el.input.focus();
  });

  // --- "Auf diesem Gerät merken": the explicit choice between sessionStorage and localStorage ---------------

  var rememberBox = document.getElementById("remember-device");
  if (rememberBox) {
    rememberBox.checked = storage.remember;
    rememberBox.addEventListener("change", function () {
      storage.choose(rememberBox.checked);
      el.status.textContent = rememberBox.checked ? TEXTS.remembered : TEXTS.forgotten;
    });
  }

  // --- input -------------------------------------------------------------------------------------------

  el.form.addEventListener("submit", function (event) {
    event.preventDefault();
    submitInput();
  });
  el.input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submitInput();
    }
  });
  el.input.addEventListener("input", updateCounter);

  // another tab of the same browser changed the conversation: show the same
  window.addEventListener("storage", function (event) {
    if (event.key === REMEMBER_KEY) { return; }  // another tab's choice; this tab keeps its own until reload
    if (event.key !== null && event.key !== SESSION_KEY && event.key !== HISTORY_KEY) { return; }
    if (!storage.remember) { return; }  // this tab's conversation is in its own sessionStorage
    session = loadSession();
    history = loadHistory(session);
    renderAll();
  });
  document.addEventListener("visibilitychange", poll);
  window.setInterval(poll, config.pollMs);

  el.input.disabled = false;
  el.send.disabled = false;
  updateCounter();
  renderAll();
  poll();
})();
