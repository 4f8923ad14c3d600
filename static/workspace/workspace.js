/* The agent workspace in the browser: keyboard, selection, live updates.

   The server renders everything; this file only decides when to ask it for a fragment.
   Live events arrive on /ws/agent/ as {"event": name, "data": {ids}}; a row, the view
   counts or the open ticket is then fetched again through htmx. Rows are refreshed in
   place and new tickets wait behind an "N new" pill, so the list never moves under the
   agent's cursor. */
(function () {
  "use strict";

  const frame = document.getElementById("workspace");
  if (!frame || !window.htmx) return;

  const byId = (id) => document.getElementById(id);
  const state = {
    selectedId: null,
    newIds: new Set(),
    pendingRows: new Set(),
    rowTimer: null,
    countTimer: null,
    ticketTimer: null,
    goPrefix: false,
    retries: 0,
    checked: new Set(),
    lastCheckedId: null,
    socket: null,
    subscribedId: null,
    viewers: new Map(),
    typers: new Map(),
    typingSentAt: 0,
    ticketLoading: false,
    ticketStale: false,
    draftBaseline: null,
  };

  // --- Announcements for screen readers --------------------------------------------------------

  function announce(text) {
    const region = byId("live-region");
    if (!region) return;
    region.textContent = "";
    window.setTimeout(() => { region.textContent = text; }, 30);
  }

  // --- Selection in the list -----------------------------------------------------------------

  function rowsBox() { return byId("ticket-rows"); }
  function rows() {
    const box = rowsBox();
    return box ? Array.from(box.querySelectorAll('[role="option"]')) : [];
  }
  function openTicketId() {
    const pane = byId("ticket-pane");
    return pane ? pane.dataset.ticketId : null;
  }

  function select(row, options) {
    const opts = Object.assign({ scroll: true, focus: false }, options);
    const box = rowsBox();
    if (!box || !row) return;
    for (const other of rows()) {
      other.setAttribute("aria-selected", other === row ? "true" : "false");
    }
    box.setAttribute("aria-activedescendant", row.id);
    state.selectedId = row.dataset.ticketId;
    if (opts.scroll) row.scrollIntoView({ block: "nearest" });
    if (opts.focus && document.activeElement !== box) box.focus({ preventScroll: true });
  }

  function markOpen() {
    const open = openTicketId();
    for (const row of rows()) row.classList.toggle("is-open", row.dataset.ticketId === open);
  }

  function restoreSelection() {
    const list = rows();
    if (!list.length) return;
    const wanted = state.selectedId || openTicketId();
    const row = list.find((candidate) => candidate.dataset.ticketId === wanted);
    if (row) select(row, { scroll: false });
    else if (!state.selectedId) select(list[0], { scroll: false });
    markOpen();
  }

  function move(step) {
    const list = rows();
    if (!list.length) return;
    let index = list.findIndex((row) => row.getAttribute("aria-selected") === "true");
    index = index < 0 ? 0 : Math.min(list.length - 1, Math.max(0, index + step));
    select(list[index], { focus: true });
    if (index === list.length - 1) {
      const more = document.querySelector("#list-more [hx-get]");
      if (more) htmx.trigger(more, "click");
    }
  }

  function selectedRow() {
    return rows().find((row) => row.getAttribute("aria-selected") === "true") || null;
  }

  // --- Checked rows and bulk actions ------------------------------------------------------------
  // The checked ids live here, not only in the checkboxes: a live refresh re-renders a row.

  function bulkForm() { return byId("bulk-form"); }

  function syncChecks() {
    for (const row of rows()) {
      const box = row.querySelector(".row-check");
      const on = state.checked.has(row.dataset.ticketId);
      if (box) box.checked = on;
      row.classList.toggle("is-checked", on);
    }
    const form = bulkForm();
    if (!form) return;
    const count = state.checked.size;
    form.hidden = count === 0;
    form.querySelector("[data-bulk-count]").textContent = String(count);
  }

  function setChecked(row, on) {
    const id = row.dataset.ticketId;
    if (on) state.checked.add(id); else state.checked.delete(id);
  }

  function toggleCheck(row, range, checked) {
    if (!row) return;
    const on = checked === undefined ? !state.checked.has(row.dataset.ticketId) : checked;
    const list = rows();
    const from = list.findIndex((candidate) => candidate.dataset.ticketId === state.lastCheckedId);
    if (range && from >= 0) {
      const to = list.indexOf(row);
      const [start, end] = from < to ? [from, to] : [to, from];
      for (const each of list.slice(start, end + 1)) setChecked(each, on);
    } else {
      setChecked(row, on);
    }
    state.lastCheckedId = row.dataset.ticketId;
    syncChecks();
    announce(`${state.checked.size} selected`);
  }

  function clearChecks() {
    state.checked.clear();
    state.lastCheckedId = null;
    syncChecks();
  }

  function submitBulk(action) {
    const form = bulkForm();
    if (!form || !state.checked.size) return;
    // Rows checked and then scrolled away by a reload still count.
    for (const input of form.querySelectorAll("input[data-bulk-extra]")) input.remove();
    const shown = new Set(rows().map((row) => row.dataset.ticketId));
    for (const id of state.checked) {
      if (shown.has(id)) continue;
      const input = document.createElement("input");
      Object.assign(input, { type: "hidden", name: "ticket", value: id });
      input.dataset.bulkExtra = "";
      form.appendChild(input);
    }
    form.querySelector('input[name="action"]').value = action;
    htmx.trigger(form, "submit");
  }

  document.addEventListener("change", (event) => {
    const select = event.target.closest("[data-bulk-action]");
    if (select) {
      submitBulk(select.dataset.bulkAction);
      select.selectedIndex = 0;
    }
  });

  document.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || !event.target.closest("#bulk-form input[name='add']")) return;
    event.preventDefault();
    submitBulk("tags");
  });

  // The list's filters change without a reload: a saved view takes the list's query as it
  // is now, not as the page was rendered.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    const list = byId("ticket-list");
    if (!form.matches("[data-save-view]") || !list) return;
    form.querySelector('input[name="query"]').value = list.dataset.query || "";
  });

  // --- Opening a ticket without leaving the list ------------------------------------------------

  function openTicket(row) {
    if (!row) return;
    select(row, { scroll: false });
    const href = row.dataset.href;
    htmx.ajax("GET", href, { source: "#main", target: "#main", swap: "innerHTML" }).then(() => {
      history.pushState({ ticket: row.dataset.number }, "", href);
      frame.dataset.pane = "ticket";
      markOpen();
      scrollTimelineToEnd();
      const subject = byId("ticket-subject");
      document.title = `#${row.dataset.number} ${subject ? subject.textContent : ""} · Switchboard`;
      announce(`Opened ticket ${row.dataset.number}`);
    });
  }

  function backToList(link) {
    frame.dataset.pane = "list";
    history.pushState({}, "", link.href);
    const row = selectedRow();
    const box = rowsBox();
    if (box) box.focus({ preventScroll: true });
    if (row) row.scrollIntoView({ block: "nearest" });
  }

  // The browser's back and forward show what the address says, rendered by the server.
  window.addEventListener("popstate", () => window.location.reload());

  function scrollTimelineToEnd() {
    const timeline = byId("timeline");
    if (timeline) timeline.scrollTop = timeline.scrollHeight;
  }

  // --- Composer -----------------------------------------------------------------------------

  function setMode(mode) {
    const form = byId("composer");
    if (!form || form.tagName !== "FORM") return false;
    const radio = form.querySelector(`input[name="mode"][value="${mode}"]`);
    if (!radio || radio.disabled) return false;
    radio.checked = true;
    // Through the change event, so whatever follows the mode (the channel's check) does too.
    radio.dispatchEvent(new Event("change", { bubbles: true }));
    const text = byId("composer-text");
    if (text) text.focus();
    return true;
  }

  function applyMode(form) {
    const checked = form.querySelector('input[name="mode"]:checked');
    const mode = checked ? checked.value : "reply";
    form.classList.toggle("composer--note", mode === "note");
    form.classList.toggle("composer--reply", mode !== "note");
    const text = byId("composer-text");
    if (text) text.placeholder = text.dataset[mode === "note" ? "notePlaceholder" : "replyPlaceholder"];
  }

  document.addEventListener("change", (event) => {
    const target = event.target;
    if (target.name === "mode" && target.form && target.form.id === "composer") applyMode(target.form);
    if (target.name === "attachments") {
      const label = target.closest(".attach").querySelector("[data-attach-label]");
      const count = target.files.length;
      label.textContent = count ? `${count} file${count > 1 ? "s" : ""}` : "Attach";
    }
  });

  // --- Clicks -------------------------------------------------------------------------------

  document.addEventListener("click", (event) => {
    const target = event.target;
    const check = target.closest(".row-check");
    if (check) {
      // The box has toggled itself already; a shift-click gives the range its new state.
      toggleCheck(check.closest('[role="option"]'), event.shiftKey, check.checked);
      return;
    }
    const row = target.closest('#ticket-rows [role="option"]');
    if (row) {
      // A modified click on the subject opens a new tab, as links do.
      if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
      event.preventDefault();
      openTicket(row);
      return;
    }
    if (target.closest("#new-pill")) { showNewTickets(); return; }
    const back = target.closest("[data-back]");
    if (back && window.matchMedia("(max-width: 767px)").matches && rows().length) {
      event.preventDefault();
      backToList(back);
      return;
    }
    if (target.closest("[data-toggle-nav]")) { toggleNav(); return; }
    if (target.closest("[data-toggle-customer]")) { toggleCustomer(); return; }
    if (target.closest("[data-close-drawers]")) { closeDrawers(); return; }
    if (target.closest("[data-bulk-clear]")) { clearChecks(); return; }
    const bulkButton = target.closest("[data-bulk-submit]");
    if (bulkButton) { submitBulk(bulkButton.dataset.bulkSubmit); return; }
    if (target.closest("[data-bulk-dismiss]")) { byId("bulk-result").innerHTML = ""; return; }
    if (target.closest("[data-open-shortcuts]")) { toggleShortcuts(); }
  });

  function toggleNav(force) {
    const open = force === undefined ? frame.dataset.nav !== "open" : force;
    frame.dataset.nav = open ? "open" : "closed";
    const button = frame.querySelector("[data-toggle-nav]");
    if (button) button.setAttribute("aria-expanded", String(open));
    if (open) {
      const current = frame.querySelector(".view-link.is-current") || frame.querySelector(".view-link");
      if (current) current.focus();
    }
  }

  function toggleCustomer(force) {
    const pane = byId("ticket-pane");
    if (!pane) return;
    const open = force === undefined ? pane.dataset.customer !== "open" : force;
    pane.dataset.customer = open ? "open" : "closed";
    for (const button of pane.querySelectorAll(".th-customer-toggle")) {
      button.setAttribute("aria-expanded", String(open));
    }
  }

  function closeDrawers() {
    toggleNav(false);
    toggleCustomer(false);
  }

  function toggleShortcuts() {
    const dialog = byId("shortcuts");
    if (!dialog) return;
    if (dialog.open) dialog.close();
    else dialog.showModal();
  }

  // --- Keyboard -----------------------------------------------------------------------------

  function isTyping(element) {
    return Boolean(element && element.closest && element.closest("input, textarea, select, [contenteditable='true']"));
  }

  function focusField(id) {
    const field = byId(id);
    if (!field) return false;
    field.focus();
    return true;
  }

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented) return;
    const target = event.target;
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter" && target.id === "composer-text") {
      event.preventDefault();
      target.form.requestSubmit();
      return;
    }
    if (event.key === "Escape") {
      if (isTyping(target)) target.blur();
      closeDrawers();
      return;
    }
    if (isTyping(target) || event.ctrlKey || event.metaKey || event.altKey) return;
    const dialog = byId("shortcuts");
    if (dialog && dialog.open && event.key !== "?") return;

    if (state.goPrefix) {
      state.goPrefix = false;
      if (event.key === "i") {
        event.preventDefault();
        window.location.assign(frame.dataset.inboxUrl);
      }
      return;
    }
    const inList = target === document.body || target === rowsBox() || target.id === "main";
    let handled = true;
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "ArrowDown": if (target === rowsBox()) move(1); else handled = false; break;
      case "ArrowUp": if (target === rowsBox()) move(-1); else handled = false; break;
      case "Enter": if (inList) openTicket(selectedRow()); else handled = false; break;
      case "r": handled = setMode("reply"); break;
      case "n": handled = setMode("note"); break;
      case "a": handled = focusField("field-assignee"); break;
      case "s": handled = focusField("field-status"); break;
      case "/": handled = focusField("search"); break;
      case "u": showNewTickets(); break;
      case "x": if (inList) toggleCheck(selectedRow(), false); else handled = false; break;
      case "?": toggleShortcuts(); break;
      case "g":
        state.goPrefix = true;
        window.setTimeout(() => { state.goPrefix = false; }, 1200);
        break;
      default: handled = false;
    }
    if (handled) event.preventDefault();
  });

  // --- Live updates -------------------------------------------------------------------------

  function listQuery() {
    const list = byId("ticket-list");
    return list && list.dataset.query ? `?${list.dataset.query}` : "";
  }

  function rowUrl(id) {
    return frame.dataset.rowUrl.replace(/\/0\/$/, `/${id}/`) + listQuery();
  }

  function scheduleRows(ids) {
    ids.forEach((id) => state.pendingRows.add(id));
    window.clearTimeout(state.rowTimer);
    state.rowTimer = window.setTimeout(flushRows, 150);
  }

  function flushRows() {
    const ids = Array.from(state.pendingRows);
    state.pendingRows.clear();
    for (const id of ids) {
      if (byId(`ticket-row-${id}`)) {
        htmx.ajax("GET", rowUrl(id), { source: `#ticket-row-${id}`, target: `#ticket-row-${id}`, swap: "outerHTML" });
      } else if (rowsBox() && !state.newIds.has(id)) {
        // Not shown: count it as new if it belongs to this list, without inserting it.
        fetch(rowUrl(id), { headers: { "HX-Request": "true" }, credentials: "same-origin" })
          .then((response) => {
            if (response.ok && response.headers.get("X-In-View") === "1" && !byId(`ticket-row-${id}`)) {
              state.newIds.add(id);
              showPill();
            }
          })
          .catch(() => {});
      }
    }
  }

  function showPill() {
    const pill = byId("new-pill");
    if (!pill) return;
    const count = state.newIds.size;
    pill.querySelector("[data-new-count]").textContent = String(count);
    pill.hidden = count === 0;
    if (count) announce(`${count} new ticket${count > 1 ? "s" : ""} in this view. Press u to show.`);
  }

  function reloadList() {
    const form = byId("inbox-query");
    if (!form) return Promise.resolve();
    return htmx.ajax("GET", frame.dataset.listUrl + listQuery(), { source: "#ticket-list", target: "#ticket-list", swap: "outerHTML" });
  }

  function showNewTickets() {
    if (!state.newIds.size) return;
    state.newIds.clear();
    showPill();
    reloadList().then(() => {
      const list = byId("ticket-list");
      if (list) list.scrollTop = 0;
      announce("List updated");
    });
  }

  function scheduleCounts() {
    window.clearTimeout(state.countTimer);
    state.countTimer = window.setTimeout(() => {
      if (!byId("view-nav")) return;
      htmx.ajax("GET", frame.dataset.countsUrl + listQuery(), { source: "#view-nav", target: "#view-nav", swap: "outerHTML" })
        .then(syncListCount);
    }, 300);
  }

  function syncListCount() {
    const list = byId("ticket-list");
    if (!list) return;
    const count = frame.querySelector(`#view-nav [data-count="${list.dataset.view}"]`);
    if (!count) return;
    for (const heading of frame.querySelectorAll(".list-count")) heading.textContent = count.textContent;
  }

  function scheduleTicket() {
    window.clearTimeout(state.ticketTimer);
    state.ticketTimer = window.setTimeout(refreshTicket, 150);
  }

  // Each fetch names its own element as the source. Without one, htmx makes every request's
  // source the body, and a request made while another is in flight waits in the body's queue,
  // where the next one replaces it: a ticket refresh queued behind a row refresh was dropped
  // by the counts refresh queued after it, and the live note never showed.
  function refreshTicket() {
    // htmx drops a request on an element that already has one in flight, so an event that
    // arrives during a refresh would be lost: it marks the pane stale and is fetched after.
    if (state.ticketLoading) {
      state.ticketStale = true;
      return;
    }
    const pane = byId("ticket-pane");
    const timeline = byId("timeline");
    if (!pane) return;
    const atEnd = timeline && timeline.scrollHeight - timeline.scrollTop - timeline.clientHeight < 80;
    state.ticketLoading = true;
    htmx.ajax("GET", pane.dataset.liveUrl, { source: "#ticket-pane", target: "#ticket-pane", swap: "none" })
      .then(() => {
        if (atEnd) scrollTimelineToEnd();
      })
      .finally(() => {
        state.ticketLoading = false;
        if (state.ticketStale) {
          state.ticketStale = false;
          scheduleTicket();
        }
      });
  }

  function ticketIds(data) {
    return [data.ticket_id, data.source_ticket_id, data.target_ticket_id].filter(Number.isInteger);
  }

  function onEvent(name, data) {
    if (name === "agent.mentioned") {
      // The agent's own news, not the inbox's: the mentions script shows it.
      document.dispatchEvent(new CustomEvent("workspace:mentioned", { detail: data }));
      return;
    }
    const ids = ticketIds(data);
    if (ids.length) scheduleRows(ids);
    scheduleCounts();
    const open = Number(openTicketId());
    if (open && ids.includes(open)) {
      scheduleTicket();
      if (name === "message.created" && data.kind === "customer") announce("New message from the customer");
    }
  }

  function catchUp() {
    // After a gap (sleep, network), fetch the truth instead of replaying what was missed.
    state.newIds.clear();
    showPill();
    reloadList();
    scheduleCounts();
    if (openTicketId()) scheduleTicket();
  }

  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    let socket;
    try {
      socket = new WebSocket(`${scheme}://${window.location.host}${frame.dataset.socketPath}`);
    } catch (error) {
      return;
    }
    state.socket = socket;
    socket.addEventListener("open", () => {
      frame.dataset.live = "on";
      // A new socket is in no ticket's group yet.
      syncSubscription(true);
      if (state.retries > 0) catchUp();
      state.retries = 0;
    });
    socket.addEventListener("message", (message) => {
      let payload;
      try { payload = JSON.parse(message.data); } catch (error) { return; }
      if (!payload || !payload.event) return;
      if (payload.event === "ticket.presence") onPresence(payload.data || {});
      else if (payload.event === "ticket.typing") onTyping(payload.data || {});
      else onEvent(payload.event, payload.data || {});
    });
    socket.addEventListener("close", (event) => {
      frame.dataset.live = "off";
      if (event.code === 4401) return; // signed out: the next page load asks to sign in
      const delay = Math.min(30000, 1000 * 2 ** state.retries) + Math.random() * 500;
      state.retries += 1;
      window.setTimeout(connect, delay);
    });
  }

  // --- Who else is here: presence, typing, and the stale-reply guard -------------------------
  // The open ticket is followed on the socket: viewers and typists come as ticket.presence and
  // ticket.typing pushes; each entry expires unless repeated, so a vanished tab fades out.

  const PRESENCE_TTL = 60000;
  const PRESENCE_REPEAT = 25000;
  const TYPING_TTL = 6000;
  const TYPING_REPEAT = 3000;

  function sendOnSocket(content) {
    if (state.socket && state.socket.readyState === WebSocket.OPEN) state.socket.send(JSON.stringify(content));
  }

  function syncSubscription(force) {
    const id = Number(openTicketId()) || null;
    if (id === state.subscribedId && !force) return;
    if (state.subscribedId && !force) sendOnSocket({ unsubscribe: state.subscribedId });
    state.subscribedId = id;
    state.viewers.clear();
    state.typers.clear();
    if (id) sendOnSocket({ subscribe: id });
    renderPresence();
  }

  function remember(map, key, name, ttl) {
    const known = map.get(key);
    if (known) window.clearTimeout(known.timer);
    const timer = window.setTimeout(() => { map.delete(key); renderPresence(); }, ttl);
    map.set(key, { name, timer });
    return !known;
  }

  function forget(map, key) {
    const known = map.get(key);
    if (known) window.clearTimeout(known.timer);
    map.delete(key);
  }

  function onPresence(data) {
    if (data.ticket_id !== state.subscribedId) return;
    if (data.viewing) {
      // Someone new: say we are here too, so they see us without waiting for our repeat.
      if (remember(state.viewers, data.agent_id, data.name, PRESENCE_TTL)) sendOnSocket({ viewing: data.ticket_id });
    } else {
      forget(state.viewers, data.agent_id);
      forget(state.typers, `agent-${data.agent_id}`);
    }
    renderPresence();
  }

  function onTyping(data) {
    if (data.ticket_id !== state.subscribedId) return;
    const key = data.author === "customer" ? "customer" : `agent-${data.agent_id}`;
    const name = data.author === "customer" ? "The customer" : data.name;
    if (data.typing) remember(state.typers, key, name, TYPING_TTL);
    else forget(state.typers, key);
    renderPresence();
  }

  function names(list) {
    if (list.length <= 2) return list.join(" and ");
    return `${list.slice(0, -1).join(", ")} and ${list[list.length - 1]}`;
  }

  function renderPresence() {
    const bar = byId("presence");
    if (!bar) return;
    const typing = Array.from(state.typers.values(), (entry) => entry.name);
    const viewing = Array.from(state.viewers.entries())
      .filter(([id]) => !state.typers.has(`agent-${id}`))
      .map(([, entry]) => entry.name);
    const parts = [];
    if (typing.length) parts.push(`${names(typing)} ${typing.length > 1 ? "are" : "is"} typing…`);
    if (viewing.length) parts.push(`${names(viewing)} ${viewing.length > 1 ? "are" : "is"} also viewing`);
    bar.querySelector("[data-presence-text]").textContent = parts.join(" · ");
    bar.hidden = parts.length === 0;
    bar.classList.toggle("presence--typing", typing.length > 0);
  }

  window.setInterval(() => {
    if (state.subscribedId) sendOnSocket({ viewing: state.subscribedId });
  }, PRESENCE_REPEAT);

  function lastMessageId() {
    const ids = Array.from(document.querySelectorAll("#timeline article[id^='message-']"), (node) => Number(node.id.slice(8)));
    return ids.length ? Math.max(...ids) : 0;
  }

  document.addEventListener("input", (event) => {
    const text = event.target;
    if (text.id !== "composer-text" || !state.subscribedId) return;
    if (!text.value.trim()) {
      state.draftBaseline = null;
      sendOnSocket({ stopped_typing: state.subscribedId });
      state.typingSentAt = 0;
      return;
    }
    // What the agent had seen when they started writing: the stale-reply guard compares to it.
    if (state.draftBaseline === null) state.draftBaseline = lastMessageId();
    if (Date.now() - state.typingSentAt > TYPING_REPEAT) {
      state.typingSentAt = Date.now();
      sendOnSocket({ typing: state.subscribedId });
    }
  });

  // Capture phase: the guard runs before htmx sends the form, and can stop it.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.id !== "composer") return;
    const guard = byId("stale-guard");
    const newest = lastMessageId();
    if (state.draftBaseline !== null && newest > state.draftBaseline && guard) {
      event.preventDefault();
      event.stopImmediatePropagation();
      const arrived = Array.from(document.querySelectorAll("#timeline article[id^='message-']"))
        .filter((node) => Number(node.id.slice(8)) > state.draftBaseline).length;
      guard.querySelector("[data-stale-text]").textContent =
        `${arrived} new message${arrived === 1 ? "" : "s"} arrived while you were writing. Review, then send again.`;
      guard.hidden = false;
      // Seen now: the next send goes through.
      state.draftBaseline = newest;
      scrollTimelineToEnd();
      announce(guard.textContent.trim());
      return;
    }
    if (guard) guard.hidden = true;
    if (state.subscribedId) sendOnSocket({ stopped_typing: state.subscribedId });
    state.typingSentAt = 0;
  }, true);

  // --- Times that move ----------------------------------------------------------------------

  function span(seconds) {
    const s = Math.abs(seconds);
    if (s < 60) return seconds >= 0 ? "now" : "<1m";
    const minutes = Math.floor(s / 60);
    if (minutes < 60) return `${minutes}m`;
    const hours = Math.floor(minutes / 60);
    if (hours < 24) return `${hours}h`;
    const days = Math.floor(hours / 24);
    return days < 60 ? `${days}d` : `${Math.floor(days / 30)}mo`;
  }

  function countdown(seconds) {
    if (seconds <= 0) return seconds <= -60 ? `${span(seconds)} late` : "due now";
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return `${minutes}m`;
    const hours = Math.floor(minutes / 60);
    if (hours < 24) return `${hours}h ${String(minutes % 60).padStart(2, "0")}m`;
    return `${Math.floor(hours / 24)}d ${hours % 24}h`;
  }

  function tick() {
    const now = Date.now();
    for (const time of document.querySelectorAll("time[data-ago]")) {
      time.textContent = span((now - Date.parse(time.dateTime)) / 1000);
    }
    for (const time of document.querySelectorAll("time[data-countdown]")) {
      time.textContent = countdown((Date.parse(time.dateTime) - now) / 1000);
    }
  }

  // --- Start --------------------------------------------------------------------------------

  document.body.addEventListener("htmx:afterSettle", () => {
    restoreSelection();
    syncChecks();
    syncSubscription(false);
    syncListCount();
  });
  // The address bar follows the list's filters (htmx's own history is off: the back button
  // reloads what the address says).
  document.body.addEventListener("htmx:afterRequest", (event) => {
    const xhr = event.detail.xhr;
    const address = xhr && xhr.getResponseHeader("HX-Replace-Url");
    if (address) history.replaceState(history.state, "", address);
  });
  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target && event.detail.target.id === "composer") {
      scrollTimelineToEnd();
      if (!byId("composer-text") || !byId("composer-text").value.trim()) state.draftBaseline = null;
    }
    if (event.detail.target && event.detail.target.id === "bulk-result"
        && event.detail.target.querySelector("[data-bulk-done]")) {
      clearChecks();
      reloadList();
      scheduleCounts();
      announce(event.detail.target.textContent.trim());
    }
  });

  restoreSelection();
  const initiallySelected = selectedRow();
  if (initiallySelected) initiallySelected.scrollIntoView({ block: "nearest" });
  scrollTimelineToEnd();
  connect();
  window.setInterval(tick, 30000);
})();

// --- What the channel allows, templates, mentions, toasts ------------------------------------
(function () {
  "use strict";

  function byId(id) { return document.getElementById(id); }

  // Free text is off while the channel refuses it (a closed WhatsApp window, an opted-out
  // number); notes still go through the same composer.
  function gateFreeText() {
    const form = byId("composer");
    const text = byId("composer-text");
    if (!form || form.tagName !== "FORM" || !text) return;
    const check = byId("reply-check");
    const refused = !!check && check.dataset.replyAllowed === "false";
    const checked = form.querySelector('input[name="mode"]:checked');
    const off = refused && (!checked || checked.value === "reply");
    form.classList.toggle("composer--off", off);
    text.disabled = off;
    for (const element of form.querySelectorAll('button.send, input[name="attachments"]')) {
      element.disabled = off;
    }
    if (off) text.placeholder = "Free text cannot be sent now: see above. Switch to a note, or send a template.";
  }

  function fillPreview(form) {
    const values = {};
    for (const input of form.querySelectorAll("[data-parameter]")) {
      values[input.dataset.parameter] = input.value;
    }
    for (const mark of form.querySelectorAll("mark[data-fill]")) {
      const value = values[mark.dataset.fill];
      mark.textContent = value && value.trim() ? value : `{{${mark.dataset.fill}}}`;
      mark.classList.toggle("filled", !!(value && value.trim()));
    }
  }

  document.addEventListener("change", (event) => {
    const target = event.target;
    if (target.name === "mode" && target.form && target.form.id === "composer") gateFreeText();
  });
  document.addEventListener("input", (event) => {
    const form = event.target.closest && event.target.closest("[data-template-form]");
    if (form) fillPreview(form);
  });
  // A live refresh brings the channel's answer again; swapping it while nothing changed
  // would throw away the parameters being typed.
  document.body.addEventListener("htmx:oobBeforeSwap", (event) => {
    const target = event.detail.target;
    const fragment = event.detail.fragment;
    if (!target || target.id !== "reply-check" || !fragment) return;
    const incoming = fragment.firstElementChild || fragment;
    if (!incoming.dataset) return;
    if (incoming.dataset.replyAllowed === target.dataset.replyAllowed
        && (incoming.dataset.refusedReason || "") === (target.dataset.refusedReason || "")) {
      event.detail.shouldSwap = false;
    }
  });
  document.body.addEventListener("htmx:afterSettle", () => {
    gateFreeText();
    for (const form of document.querySelectorAll("[data-template-form]")) fillPreview(form);
  });
  gateFreeText();
  for (const form of document.querySelectorAll("[data-template-form]")) fillPreview(form);

  // --- @mentions in notes: suggestions while typing ----------------------------------------
  const mention = { list: null, start: -1, items: [], active: 0 };

  function mentionAgents() {
    const data = byId("mention-agents");
    if (!data) return [];
    try { return JSON.parse(data.textContent) || []; } catch (error) { return []; }
  }

  function noteMode() {
    const form = byId("composer");
    const checked = form && form.querySelector('input[name="mode"]:checked');
    return !!checked && checked.value === "note";
  }

  function closeMentions() {
    if (mention.list) mention.list.remove();
    mention.list = null;
    mention.start = -1;
    const text = byId("composer-text");
    if (text) {
      text.removeAttribute("aria-activedescendant");
      text.setAttribute("aria-expanded", "false");
    }
  }

  function renderMentions(text) {
    if (!mention.list) {
      mention.list = document.createElement("ul");
      mention.list.id = "mention-list";
      mention.list.className = "mention-suggest";
      mention.list.setAttribute("role", "listbox");
      mention.list.setAttribute("aria-label", "Agents to mention");
      text.insertAdjacentElement("afterend", mention.list);
      text.setAttribute("aria-controls", "mention-list");
      text.setAttribute("aria-autocomplete", "list");
    }
    mention.list.replaceChildren();
    mention.items.forEach((agent, index) => {
      const item = document.createElement("li");
      item.id = `mention-option-${index}`;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", index === mention.active ? "true" : "false");
      item.dataset.index = String(index);
      const name = document.createElement("strong");
      name.textContent = agent.name;
      const handle = document.createElement("span");
      handle.className = "muted";
      handle.textContent = `@${agent.username}`;
      item.append(name, " ", handle);
      mention.list.append(item);
    });
    text.setAttribute("aria-expanded", "true");
    text.setAttribute("aria-activedescendant", `mention-option-${mention.active}`);
  }

  function suggest(text) {
    if (!noteMode()) { closeMentions(); return; }
    const before = text.value.slice(0, text.selectionStart);
    const match = /(^|[\s(])@([\w.+-]{0,30})$/.exec(before);
    if (!match) { closeMentions(); return; }
    const typed = match[2].toLowerCase();
    const items = mentionAgents().filter((agent) =>
      agent.username.toLowerCase().startsWith(typed) || agent.name.toLowerCase().split(/\s+/).some((part) => part.startsWith(typed))
    ).slice(0, 8);
    if (!items.length) { closeMentions(); return; }
    mention.start = before.length - match[2].length - 1;
    mention.items = items;
    mention.active = Math.min(mention.active, items.length - 1);
    renderMentions(text);
  }

  function choose(index) {
    const text = byId("composer-text");
    const agent = mention.items[index];
    if (!text || !agent || mention.start < 0) return;
    const end = text.selectionStart;
    const insert = `@${agent.username} `;
    text.value = text.value.slice(0, mention.start) + insert + text.value.slice(end);
    const caret = mention.start + insert.length;
    text.setSelectionRange(caret, caret);
    closeMentions();
    text.focus();
  }

  document.addEventListener("input", (event) => {
    if (event.target.id === "composer-text") { mention.active = 0; suggest(event.target); }
  });
  // Capture: the list's keys come before the workspace's own shortcuts (Ctrl+Enter sends).
  document.addEventListener("keydown", (event) => {
    if (!mention.list || event.target.id !== "composer-text") return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      mention.active = (mention.active + step + mention.items.length) % mention.items.length;
      renderMentions(event.target);
    } else if ((event.key === "Enter" && !event.ctrlKey && !event.metaKey) || event.key === "Tab") {
      event.preventDefault();
      event.stopPropagation();
      choose(mention.active);
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      closeMentions();
    }
  }, true);
  document.addEventListener("mousedown", (event) => {
    const option = event.target.closest && event.target.closest("#mention-list [role=option]");
    if (option) { event.preventDefault(); choose(Number(option.dataset.index)); return; }
    if (mention.list && event.target.id !== "composer-text") closeMentions();
  });
  document.body.addEventListener("htmx:afterSwap", () => { if (mention.list && !mention.list.isConnected) closeMentions(); });

  // --- Being mentioned: a toast, and the count beside "Mentions" -----------------------------
  let unseenMentions = 0;

  function showBadge() {
    for (const badge of document.querySelectorAll("[data-mentions-badge]")) {
      badge.textContent = String(unseenMentions);
      badge.hidden = unseenMentions === 0;
    }
  }

  function toastBox() {
    let box = byId("toasts");
    if (!box) {
      box = document.createElement("div");
      box.id = "toasts";
      box.className = "toasts";
      box.setAttribute("role", "status");
      box.setAttribute("aria-live", "polite");
      document.body.append(box);
    }
    return box;
  }

  document.addEventListener("workspace:mentioned", (event) => {
    const data = event.detail || {};
    if (!Number.isInteger(data.ticket_number)) return;
    unseenMentions += 1;
    showBadge();
    const toast = document.createElement("div");
    toast.className = "toast";
    const link = document.createElement("a");
    link.href = `/tickets/${data.ticket_number}/#message-${data.message_id}`;
    link.textContent = `You were mentioned in a note on #${data.ticket_number}`;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    close.addEventListener("click", () => toast.remove());
    toast.append(link, close);
    toastBox().append(toast);
    window.setTimeout(() => toast.remove(), 12000);
  });
  document.body.addEventListener("htmx:afterSettle", showBadge);
})();
