// Web chat of the Berufsorientierungs-Assistent Hessen. The browser talks to Rasa's REST channel directly:
// POST {rasa}/webhooks/rest/webhook for every message, GET {rasa}/webhooks/rest/outbox?sender=ID every few
// seconds while the page is visible (adviser replies during a hand-off, the bot's "I'm back").
// Message text is only ever inserted as text nodes; links are built as <a> elements (http/https only).
(function () {
  "use strict";

  var SESSION_KEY = "bo-hessen-webchat-session";
  var HISTORY_KEY = "bo-hessen-webchat-history";
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

  // --- storage: localStorage, or memory only when it is unavailable (private mode, blocked) --------------

  var memory = {};
  var storage = {
    get: function (key) {
      try { return window.localStorage.getItem(key); } catch (e) { return memory[key] || null; }
    },
    set: function (key, value) {
      memory[key] = value;
      try { window.localStorage.setItem(key, value); } catch (e) { /* memory only */ }
    }
  };

  function newUuid() {
    var c = window.crypto;
    if (c && typeof c.randomUUID === "function") { return c.randomUUID(); }
    var bytes = new Uint8Array(16);
    if (c && typeof c.getRandomValues === "function") {
      c.getRandomValues(bytes);
    } else {
      for (var i = 0; i < 16; i++) { bytes[i] = Math.floor(Math.random() * 256); }
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;  // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80;  // RFC 4122 variant
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  function loadSession() {
    var id = storage.get(SESSION_KEY);
    if (!id || !/^web-[0-9a-f-]{36}$/.test(id)) {
      id = "web-" + newUuid();
      storage.set(SESSION_KEY, id);
    }
    return id;
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
    session = "web-" + newUuid();
    storage.set(SESSION_KEY, session);
    history = [];
    saveHistory();
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
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    }).then(function (body) {
      window.clearTimeout(timer);
      return body;
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
  function handleMessages(messages) {
    if (!Array.isArray(messages)) { return; }
    if (messages.some(isDeletion)) {
      startNewSession();
      el.status.textContent = TEXTS.deleted;
    }
    messages.map(toEntry).filter(Boolean).forEach(addEntry);
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
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: sender, message: payload })
    }, SEND_TIMEOUT_MS).then(function (reply) {
      pending.remove();
      setBusy(false);
      if (sender !== session) { return; }  // a new conversation was started meanwhile
      removeOfferedButtons();
      addEntry({ who: "user", text: shownText, buttons: [], image: "" });
      if (fromInput) {
        el.input.value = "";
        updateCounter();
      }
      handleMessages(reply);
      el.input.focus();
    }, function () {
      pending.remove();  // not delivered: the text stays in the input (or the button stays offered)
      setBusy(false);
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
    if (busy || polling || document.visibilityState !== "visible" || !hasUserMessage()) { return; }
    var sender = session;
    polling = true;
    requestJson(config.rasaUrl + "/webhooks/rest/outbox?sender=" + encodeURIComponent(sender),
                { method: "GET" }, POLL_TIMEOUT_MS)
      .then(function (messages) {
        if (sender === session) { handleMessages(messages); }
      }, function () { /* quiet: the next poll tries again */ })
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
    if (event.key !== null && event.key !== SESSION_KEY && event.key !== HISTORY_KEY) { return; }
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
