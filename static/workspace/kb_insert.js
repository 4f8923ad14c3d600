// The composer's "Insert article" control: search the published knowledge base and insert
// a link to the chosen article, in the customer's locale, at the cursor of the reply. The
// composer is swapped by htmx after each send, so everything is found by delegation.
(function () {
  "use strict";
  var DELAY_MS = 200;
  var timer = null;
  var controller = null;

  function parts(root) {
    return {
      root: root,
      toggle: root.querySelector("[data-kb-insert-toggle]"),
      panel: root.querySelector("[role=dialog]"),
      query: root.querySelector("[data-kb-insert-query]"),
      results: root.querySelector("[data-kb-insert-results]"),
      status: root.querySelector("[data-kb-insert-status]"),
    };
  }

  function textarea(root) {
    var form = root.closest("form");
    return form ? form.querySelector("textarea[name=text]") : null;
  }

  function open(p) {
    p.panel.hidden = false;
    p.toggle.setAttribute("aria-expanded", "true");
    p.query.focus();
    p.query.select();
  }

  function close(p, refocus) {
    p.panel.hidden = true;
    p.toggle.setAttribute("aria-expanded", "false");
    p.query.setAttribute("aria-expanded", "false");
    p.query.removeAttribute("aria-activedescendant");
    if (refocus) {
      var area = textarea(p.root);
      (area || p.toggle).focus();
    }
  }

  function options(p) { return p.results.querySelectorAll("[role=option]"); }

  function select(p, index) {
    var items = options(p);
    if (!items.length) return;
    index = (index + items.length) % items.length;
    for (var i = 0; i < items.length; i++) items[i].setAttribute("aria-selected", i === index ? "true" : "false");
    p.query.setAttribute("aria-activedescendant", items[index].id);
    items[index].scrollIntoView({ block: "nearest" });
  }

  function selectedIndex(p) {
    var items = options(p);
    for (var i = 0; i < items.length; i++) if (items[i].getAttribute("aria-selected") === "true") return i;
    return -1;
  }

  function insert(p, item) {
    var area = textarea(p.root);
    if (!area) return;
    var text = item.dataset.title + ": " + item.dataset.url;
    var start = area.selectionStart == null ? area.value.length : area.selectionStart;
    var end = area.selectionEnd == null ? start : area.selectionEnd;
    var before = area.value.slice(0, start);
    if (before && !/\s$/.test(before)) text = " " + text;
    area.setRangeText(text, start, end, "end");
    area.dispatchEvent(new Event("input", { bubbles: true }));
    close(p, true);
  }

  function render(p, data) {
    p.results.innerHTML = "";
    var results = data.results || [];
    results.forEach(function (result, index) {
      var li = document.createElement("li");
      li.setAttribute("role", "option");
      li.id = p.results.id + "-" + index;
      li.setAttribute("aria-selected", "false");
      li.dataset.url = result.url;
      li.dataset.title = result.title;
      li.textContent = result.title;
      if (result.locale !== data.locale) {
        var badge = document.createElement("span");
        badge.className = "kb-insert-locale";
        badge.textContent = result.locale.toUpperCase() + " (no " + data.locale.toUpperCase() + " version)";
        li.appendChild(badge);
      }
      p.results.appendChild(li);
    });
    p.query.setAttribute("aria-expanded", results.length ? "true" : "false");
    p.status.textContent = results.length
      ? results.length + (results.length === 1 ? " article" : " articles") + " in " + data.locale.toUpperCase() + ". Enter inserts the selected one."
      : (p.query.value.trim() ? "No published article matches." : "Type to search published articles.");
    if (results.length) select(p, 0);
  }

  function search(p) {
    var q = p.query.value.trim();
    if (controller) controller.abort();
    if (!q) { render(p, { results: [], locale: "" }); return; }
    controller = typeof AbortController === "function" ? new AbortController() : null;
    var url = p.root.dataset.url + "?q=" + encodeURIComponent(q) + "&ticket=" + encodeURIComponent(p.root.dataset.ticket || "");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, signal: controller ? controller.signal : undefined })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) { render(p, data); })
      .catch(function (error) {
        if (error && error.name === "AbortError") return;
        p.status.textContent = "The knowledge base could not be searched. Try again.";
      });
  }

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-kb-insert-toggle]");
    if (toggle) {
      var p = parts(toggle.closest("[data-kb-insert]"));
      if (p.panel.hidden) open(p); else close(p, true);
      return;
    }
    var option = event.target.closest("[data-kb-insert] [role=option]");
    if (option) {
      insert(parts(option.closest("[data-kb-insert]")), option);
      return;
    }
    // A click elsewhere closes an open panel.
    var panels = document.querySelectorAll("[data-kb-insert]");
    for (var i = 0; i < panels.length; i++) {
      var q = parts(panels[i]);
      if (!q.panel.hidden && !panels[i].contains(event.target)) close(q, false);
    }
  });

  document.addEventListener("input", function (event) {
    if (!event.target.matches("[data-kb-insert-query]")) return;
    var p = parts(event.target.closest("[data-kb-insert]"));
    clearTimeout(timer);
    timer = setTimeout(function () { search(p); }, DELAY_MS);
  });

  document.addEventListener("keydown", function (event) {
    if (!event.target.matches || !event.target.matches("[data-kb-insert-query]")) return;
    var p = parts(event.target.closest("[data-kb-insert]"));
    // The workspace's single-key shortcuts must not fire while typing here.
    event.stopPropagation();
    if (event.key === "ArrowDown") { event.preventDefault(); select(p, selectedIndex(p) + 1); }
    else if (event.key === "ArrowUp") { event.preventDefault(); select(p, selectedIndex(p) - 1); }
    else if (event.key === "Enter") {
      event.preventDefault();
      var items = options(p);
      var index = selectedIndex(p);
      if (index >= 0) insert(p, items[index]);
    } else if (event.key === "Escape") { event.preventDefault(); close(p, true); }
  }, true);
})();
