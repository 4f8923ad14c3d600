/* Switchboard live chat widget: a launcher and a chat panel on the shop's own page.
 *
 * Loaded by /widget.js, which passes data-channel (the chat account's slug), data-base
 * (Switchboard's address) and data-css. Everything lives in a shadow root, so the shop's
 * styles and ours never meet. The visitor's token is kept in localStorage: a reload or
 * another tab continues the same conversation. */
(function () {
  "use strict";

  var tag = document.currentScript;
  if (!tag) return;
  var channel = tag.getAttribute("data-channel") || "";
  var base = tag.getAttribute("data-base") || "";
  if (!channel || !base || !window.WebSocket || !window.fetch) return;
  if (document.getElementById("switchboard-chat-" + channel)) return;

  var STORAGE_KEY = "switchboard-chat:" + channel;
  var TYPING_REPEAT_MS = 3000;
  var TYPING_IDLE_MS = 4000;
  var TYPING_SHOWN_MS = 6000;
  var ICONS = {
    chat: '<path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/>',
    close: '<path d="M6 6l12 12M18 6L6 18"/>',
    attach: '<path d="M21 11l-8.5 8.5a5 5 0 0 1-7-7L14 4a3.5 3.5 0 0 1 5 5l-8.5 8.5a2 2 0 0 1-3-3L15 7"/>',
    send: '<path d="M4 12l16-8-6 16-2-7z"/>'
  };

  var state = {
    token: null, name: "", email: "", online: true, open: false, settings: null,
    socket: null, socketPath: "", uploadPath: "", pingSeconds: 25, maxUpload: 0,
    retry: 0, reconnectTimer: null, pingTimer: null, starting: null,
    outbox: {}, shown: {}, unread: {}, unreadCount: 0,
    typingSentAt: 0, typingIdleTimer: null, typingShownTimer: null
  };

  // --- Storage and ids ----------------------------------------------------------------

  function load() {
    try {
      var saved = JSON.parse(window.localStorage.getItem(STORAGE_KEY) || "null");
      if (saved && typeof saved.token === "string") state.token = saved.token;
    } catch (error) { /* private mode, or a broken entry: start afresh */ }
  }

  function save() {
    try {
      if (state.token) window.localStorage.setItem(STORAGE_KEY, JSON.stringify({ token: state.token }));
      else window.localStorage.removeItem(STORAGE_KEY);
    } catch (error) { /* the conversation then lasts as long as the page */ }
  }

  function newId() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function url(path) { return new URL(path.replace(/^\//, ""), base).href; }

  // --- Building the interface ---------------------------------------------------------

  function el(name, attributes, children) {
    var node = document.createElement(name);
    Object.keys(attributes || {}).forEach(function (key) {
      if (key === "text") node.textContent = attributes[key];
      else node.setAttribute(key, attributes[key]);
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  function icon(name) {
    var span = el("span", { "class": "sb-icon", "aria-hidden": "true" });
    span.innerHTML = '<svg viewBox="0 0 24 24" width="22" height="22" fill="none" stroke="currentColor" ' +
      'stroke-width="2" stroke-linecap="round" stroke-linejoin="round">' + ICONS[name] + "</svg>";
    return span;
  }

  var host = el("div", { id: "switchboard-chat-" + channel, style: "display:none" });
  var root = host.attachShadow({ mode: "open" });
  var ui = {};

  function build(settings) {
    var css = el("link", { rel: "stylesheet", href: tag.getAttribute("data-css") || "" });
    css.onload = css.onerror = function () { host.style.display = ""; };
    root.appendChild(css);

    ui.badge = el("span", { "class": "sb-badge", "aria-hidden": "true", hidden: "" });
    ui.launcher = el("button", {
      type: "button", "class": "sb-launcher", "aria-label": "Open chat: " + settings.title,
      "aria-haspopup": "dialog", "aria-expanded": "false", "aria-controls": "sb-panel"
    }, [icon("chat"), ui.badge]);

    ui.title = el("h2", { id: "sb-title", text: settings.title });
    ui.status = el("p", { "class": "sb-status", id: "sb-status" });
    ui.detailsToggle = el("button", { type: "button", "class": "sb-link", "aria-expanded": "false",
      "aria-controls": "sb-details", text: "Your details" });
    ui.close = el("button", { type: "button", "class": "sb-close", "aria-label": "Close chat" }, [icon("close")]);
    var header = el("header", { "class": "sb-header" }, [
      el("div", { "class": "sb-heading" }, [ui.title, el("div", { "class": "sb-status-line" }, [ui.status, ui.detailsToggle])]),
      ui.close
    ]);

    ui.log = el("ol", { "class": "sb-log", role: "log", "aria-live": "polite", "aria-label": "Conversation" });
    ui.log.appendChild(el("li", { "class": "sb-msg sb-from-agent sb-welcome" }, [
      el("p", { "class": "sb-bubble", text: settings.welcome_text })
    ]));
    ui.typing = el("p", { "class": "sb-typing", "aria-live": "polite" });

    ui.detailsNote = el("p", { "class": "sb-details-note" });
    ui.nameInput = el("input", { id: "sb-name", name: "name", type: "text", autocomplete: "name", maxlength: "100" });
    ui.emailInput = el("input", { id: "sb-email", name: "email", type: "email", autocomplete: "email",
      "aria-describedby": "sb-details-error" });
    ui.detailsError = el("p", { id: "sb-details-error", "class": "sb-error", role: "alert" });
    ui.details = el("form", { id: "sb-details", "class": "sb-details", hidden: "", novalidate: "" }, [
      ui.detailsNote,
      el("label", { "for": "sb-name", text: "Name (optional)" }), ui.nameInput,
      el("label", { "for": "sb-email", text: "Email" }), ui.emailInput,
      ui.detailsError,
      el("button", { type: "submit", "class": "sb-save", text: "Save" })
    ]);

    ui.input = el("textarea", { id: "sb-input", rows: "1", placeholder: "Write a message…", maxlength: "5000" });
    ui.file = el("input", { type: "file", id: "sb-file", "class": "sb-hidden", tabindex: "-1", "aria-hidden": "true" });
    ui.attach = el("button", { type: "button", "class": "sb-attach", "aria-label": "Attach a file" }, [icon("attach")]);
    ui.send = el("button", { type: "submit", "class": "sb-send", "aria-label": "Send" }, [icon("send")]);
    ui.composer = el("form", { "class": "sb-composer" }, [
      el("label", { "for": "sb-input", "class": "sb-visually-hidden", text: "Message" }),
      ui.input, ui.file, ui.attach, ui.send
    ]);
    ui.notice = el("p", { "class": "sb-notice", role: "alert" });

    ui.panel = el("section", { id: "sb-panel", "class": "sb-panel", role: "dialog", "aria-modal": "false",
      "aria-labelledby": "sb-title", "aria-describedby": "sb-status", hidden: "" },
      [header, el("div", { "class": "sb-body" }, [ui.log, ui.typing]), ui.details, ui.notice, ui.composer]);

    ui.root = el("div", { "class": "sb-root" }, [ui.panel, ui.launcher]);
    root.appendChild(ui.root);
    host.style.setProperty("--sb-brand", settings.brand_color);
    host.style.setProperty("--sb-on-brand", readableOn(settings.brand_color));
    document.body.appendChild(host);

    ui.launcher.addEventListener("click", function () { if (state.open) closePanel(); else openPanel(); });
    ui.close.addEventListener("click", closePanel);
    ui.root.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && state.open) { event.preventDefault(); closePanel(); }
    });
    ui.detailsToggle.addEventListener("click", function () { showDetails(ui.details.hidden); });
    ui.details.addEventListener("submit", function (event) { event.preventDefault(); saveDetails(); });
    ui.composer.addEventListener("submit", function (event) { event.preventDefault(); sendText(); });
    ui.input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); sendText(); }
    });
    ui.input.addEventListener("input", function () { grow(); typing(); });
    ui.attach.addEventListener("click", function () { ui.file.click(); });
    ui.file.addEventListener("change", function () {
      if (ui.file.files && ui.file.files[0]) upload(ui.file.files[0]);
      ui.file.value = "";
    });
    document.addEventListener("visibilitychange", markRead);
    setOnline(settings.agents_online);
  }

  function readableOn(hex) {
    var n = parseInt(hex.slice(1), 16);
    var channels = [n >> 16, (n >> 8) & 255, n & 255].map(function (c) {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    var luminance = 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2];
    return luminance > 0.4 ? "#111111" : "#ffffff";
  }

  function grow() {
    ui.input.style.height = "auto";
    ui.input.style.height = Math.min(ui.input.scrollHeight, 120) + "px";
  }

  function setOnline(online) {
    state.online = online;
    ui.status.textContent = online ? "We're online." :
      "Nobody is online right now." + (state.email ? " We'll answer by email." : "");
    if (!online && !state.email) {
      ui.detailsNote.textContent = "Leave your email and we'll answer there. You can keep writing here too.";
      showDetails(true);
    }
  }

  function showDetails(show) {
    ui.details.hidden = !show;
    ui.detailsToggle.setAttribute("aria-expanded", show ? "true" : "false");
    if (!show) {
      ui.detailsError.textContent = "";
      ui.emailInput.removeAttribute("aria-invalid");
    }
  }

  function notice(text) {
    ui.notice.textContent = text || "";
    scrollDown();
  }

  // --- Opening and closing ------------------------------------------------------------

  function openPanel() {
    state.open = true;
    ui.panel.hidden = false;
    ui.launcher.setAttribute("aria-expanded", "true");
    ui.launcher.setAttribute("aria-label", "Close chat");
    ui.root.classList.add("sb-is-open");
    state.unreadCount = 0;
    updateBadge();
    ui.input.focus();
    scrollDown();
    ensureSession().then(markRead);
  }

  function closePanel() {
    state.open = false;
    ui.panel.hidden = true;
    ui.launcher.setAttribute("aria-expanded", "false");
    ui.root.classList.remove("sb-is-open");
    updateBadge();
    ui.launcher.focus();
  }

  function updateBadge() {
    ui.badge.hidden = state.unreadCount === 0;
    ui.badge.textContent = String(state.unreadCount);
    if (!state.open) {
      ui.launcher.setAttribute("aria-label", "Open chat: " + state.settings.title +
        (state.unreadCount ? " (" + state.unreadCount + " new)" : ""));
    }
  }

  // --- Talking to Switchboard ---------------------------------------------------------

  function post(path, body) {
    // text/plain keeps the request "simple": no CORS preflight.
    return fetch(url(path), { method: "POST", headers: { "Content-Type": "text/plain;charset=UTF-8" },
      body: JSON.stringify(body), credentials: "omit" }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, data: data };
      });
    });
  }

  function start(extra) {
    var body = extra || {};
    if (state.token) body.token = state.token;
    return post("chat/" + channel + "/start/", body).then(function (answer) {
      if (answer.status === 401 && body.token) {
        state.token = null;
        save();
        delete body.token;
        return start(body);
      }
      if (answer.status !== 200) return answer;
      var data = answer.data;
      state.token = data.token;
      state.name = data.name || "";
      state.email = data.email || "";
      state.socketPath = data.socket_path;
      state.uploadPath = data.upload_path;
      state.pingSeconds = data.ping_seconds || 25;
      state.maxUpload = data.max_upload_bytes || 0;
      ui.nameInput.value = state.name;
      ui.emailInput.value = state.email;
      save();
      setOnline(data.agents_online);
      return answer;
    });
  }

  function ensureSession() {
    if (!state.starting) {
      state.starting = start().then(function (answer) {
        if (answer.status === 200) connect();
        else { state.starting = null; notice(answer.data.error || "The chat is not available right now."); }
        return answer;
      }, function () {
        state.starting = null;
        notice("The chat could not connect. Check your connection and try again.");
      });
    }
    return state.starting;
  }

  function connect() {
    if (state.socket) return;
    var address = new URL(url(state.socketPath));
    address.protocol = address.protocol === "https:" ? "wss:" : "ws:";
    address.search = "?token=" + encodeURIComponent(state.token);
    var socket = new WebSocket(address.href);
    state.socket = socket;
    socket.onopen = function () {
      state.retry = 0;
      notice("");
      Object.keys(state.outbox).forEach(function (id) { transmit({ type: "message", id: id, text: state.outbox[id] }); });
      clearInterval(state.pingTimer);
      state.pingTimer = setInterval(function () { transmit({ type: "ping" }); }, state.pingSeconds * 1000);
    };
    socket.onmessage = function (event) {
      var data;
      try { data = JSON.parse(event.data); } catch (error) { return; }
      receive(data);
    };
    socket.onclose = function (event) {
      state.socket = null;
      clearInterval(state.pingTimer);
      if (event.code === 4401) {
        // The token expired: start a new conversation, then come back here.
        state.token = null;
        save();
        state.starting = null;
        ensureSession();
        return;
      }
      var delay = Math.min(30000, 1000 * Math.pow(2, state.retry++));
      state.reconnectTimer = setTimeout(connect, delay);
    };
  }

  function transmit(message) {
    if (state.socket && state.socket.readyState === WebSocket.OPEN) {
      state.socket.send(JSON.stringify(message));
      return true;
    }
    return false;
  }

  function receive(data) {
    if (data.type === "history") {
      setOnline(data.agents_online);
      var shown = data.messages.map(function (message) { return show(message, false); }).filter(Boolean);
      if (shown.length) transmit({ type: "received", ids: shown });
      markRead();
    } else if (data.type === "message") {
      showTyping("", false);
      if (show(data.message, true)) transmit({ type: "received", ids: [data.message.id] });
      markRead();
    } else if (data.type === "ack") {
      delete state.outbox[data.id];
      setStatus(data.id, "Sent", "");
    } else if (data.type === "typing") {
      showTyping(data.name, data.typing);
    } else if (data.type === "pong") {
      setOnline(data.agents_online);
    } else if (data.type === "error") {
      if (data.id) {
        delete state.outbox[data.id];
        setStatus(data.id, "Not sent", "sb-failed");
      }
      notice(data.message);
    }
  }

  // --- Messages -----------------------------------------------------------------------

  // Shows a message once; returns its id when it is an agent's that the widget should
  // acknowledge as delivered.
  function show(message, live) {
    var existing = state.shown[message.id];
    if (existing) {
      if (message.author === "visitor") setStatus(message.id, "Sent", "");
      return null;
    }
    var fromAgent = message.author === "agent";
    var who = fromAgent ? (message.name || state.settings.title) : "You";
    var bubble = el("div", { "class": "sb-bubble" });
    if (message.text) bubble.appendChild(el("p", { text: message.text }));
    (message.attachments || []).forEach(function (file) { bubble.appendChild(attachment(file)); });
    var meta = el("p", { "class": "sb-meta" });
    var item = el("li", { "class": "sb-msg " + (fromAgent ? "sb-from-agent" : "sb-from-visitor") }, [
      el("span", { "class": fromAgent ? "sb-author" : "sb-visually-hidden", text: who }), bubble, meta
    ]);
    item.setAttribute("data-id", message.id);
    if (message.sent_at) meta.textContent = time(message.sent_at);
    state.shown[message.id] = item;
    ui.log.appendChild(item);
    scrollDown();
    if (!fromAgent) return null;
    if (message.status !== "read") state.unread[message.id] = true;
    if (live && !(state.open && document.visibilityState === "visible")) {
      state.unreadCount += 1;
      updateBadge();
    }
    return live || message.status === "sent" ? message.id : null;
  }

  function attachment(file) {
    var link = el("a", { href: url(file.url), target: "_blank", rel: "noopener" });
    if (file.picture) link.appendChild(el("img", { src: url(file.url), alt: file.name, loading: "lazy" }));
    else link.textContent = file.name;
    return link;
  }

  function localMessage(id, text, fileName) {
    var bubble = el("div", { "class": "sb-bubble" });
    if (text) bubble.appendChild(el("p", { text: text }));
    if (fileName) bubble.appendChild(el("p", { "class": "sb-file" }, [icon("attach"), document.createTextNode(fileName)]));
    var item = el("li", { "class": "sb-msg sb-from-visitor", "data-id": id }, [
      el("span", { "class": "sb-visually-hidden", text: "You" }), bubble,
      el("p", { "class": "sb-meta", text: "Sending…" })
    ]);
    state.shown[id] = item;
    ui.log.appendChild(item);
    scrollDown();
  }

  function setStatus(id, text, className) {
    var item = state.shown[id];
    if (!item) return;
    var meta = item.querySelector(".sb-meta");
    if (meta && (meta.textContent === "Sending…" || className)) meta.textContent = text;
    if (className) item.classList.add(className);
  }

  function time(iso) {
    var date = new Date(iso);
    return isNaN(date) ? "" : date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function scrollDown() {
    var body = ui.log.parentNode;
    body.scrollTop = body.scrollHeight;
  }

  function markRead() {
    if (!state.open || document.visibilityState !== "visible") return;
    var ids = Object.keys(state.unread);
    if (ids.length && transmit({ type: "read", ids: ids })) state.unread = {};
  }

  function sendText() {
    var text = ui.input.value.trim();
    if (!text) return;
    var id = newId();
    ui.input.value = "";
    grow();
    stopTyping();
    notice("");
    localMessage(id, text, "");
    state.outbox[id] = text;
    ensureSession().then(function () { transmit({ type: "message", id: id, text: text }); });
  }

  function upload(file) {
    var id = newId();
    localMessage(id, "", file.name);
    if (state.maxUpload && file.size > state.maxUpload) {
      setStatus(id, "Not sent", "sb-failed");
      notice("Files can be at most " + Math.round(state.maxUpload / 1048576) + " MB.");
      return;
    }
    ensureSession().then(function () {
      var form = new FormData();
      form.append("token", state.token);
      form.append("id", id);
      form.append("file", file);
      return fetch(url(state.uploadPath), { method: "POST", body: form, credentials: "omit" });
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (response.ok) { setStatus(id, "Sent", ""); notice(""); }
        else { setStatus(id, "Not sent", "sb-failed"); notice(data.error || "The file could not be sent."); }
      });
    }).catch(function () {
      setStatus(id, "Not sent", "sb-failed");
      notice("The file could not be sent. Check your connection and try again.");
    });
  }

  function saveDetails() {
    var email = ui.emailInput.value.trim();
    var name = ui.nameInput.value.trim();
    if (email && !ui.emailInput.checkValidity()) return detailsError("That is not an email address.");
    var first = state.token ? Promise.resolve() : ensureSession();
    first.then(function () { return start({ name: name, email: email }); }).then(function (answer) {
      if (answer.status === 200) {
        showDetails(false);
        notice(email ? "Thanks! We'll answer at " + email + " if you leave." : "");
        ui.input.focus();
      } else {
        detailsError(answer.data.error || "Your details could not be saved.");
      }
    });
  }

  function detailsError(text) {
    ui.detailsError.textContent = text;
    ui.emailInput.setAttribute("aria-invalid", "true");
    ui.emailInput.focus();
  }

  // --- Typing -------------------------------------------------------------------------

  function typing() {
    var now = Date.now();
    if (now - state.typingSentAt > TYPING_REPEAT_MS && ui.input.value.trim()) {
      state.typingSentAt = now;
      transmit({ type: "typing", typing: true });
    }
    clearTimeout(state.typingIdleTimer);
    state.typingIdleTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
  }

  function stopTyping() {
    clearTimeout(state.typingIdleTimer);
    if (state.typingSentAt) transmit({ type: "typing", typing: false });
    state.typingSentAt = 0;
  }

  function showTyping(name, on) {
    clearTimeout(state.typingShownTimer);
    ui.typing.textContent = on ? (name || "Someone") + " is typing…" : "";
    if (on) state.typingShownTimer = setTimeout(function () { ui.typing.textContent = ""; }, TYPING_SHOWN_MS);
  }

  // --- Start --------------------------------------------------------------------------

  function init() {
    load();
    fetch(url("chat/" + channel + "/config/"), { credentials: "omit" }).then(function (response) {
      if (!response.ok) throw new Error("The chat is not available on this site.");
      return response.json();
    }).then(function (settings) {
      state.settings = settings;
      build(settings);
      // A visitor in a conversation is connected at once, so replies reach them.
      if (state.token) ensureSession();
    }).catch(function (error) {
      if (window.console) window.console.warn("Switchboard chat:", error.message);
    });
  }

  if (document.body) init();
  else document.addEventListener("DOMContentLoaded", init);
})();
