/* The macro picker in the composer (templates/workspace/_macro_picker.html).

   m (or the Macro button) opens it and loads the agent's macros once; typing filters them;
   ↑ ↓ choose, Enter previews the chosen macro (body and actions, from the server), Enter
   again (or the Apply button) applies it: the server runs the actions and answers with the
   rendered body, which goes into the reply box at the cursor. Esc closes. Everything is
   delegated from the document, because the composer is replaced after each send. */
(function () {
  "use strict";

  function pickerOf(element) { return element && element.closest ? element.closest("[data-macro-picker]") : null; }
  function panelOf(picker) { return picker.querySelector(".macro-panel"); }
  function searchOf(picker) { return picker.querySelector("[data-macro-search]"); }
  function optionsOf(picker) { return Array.from(picker.querySelectorAll("[data-macro-option]")); }
  function visibleOptions(picker) { return optionsOf(picker).filter((option) => !option.hidden); }
  function previewBox(picker) { return picker.querySelector("[data-macro-preview]"); }

  function isTyping(element) {
    return Boolean(element && element.closest && element.closest("input, textarea, select, [contenteditable='true']"));
  }

  function open(picker) {
    const panel = panelOf(picker);
    panel.hidden = false;
    picker.querySelector("[data-macro-toggle]").setAttribute("aria-expanded", "true");
    if (!picker.dataset.loaded) load(picker);
    searchOf(picker).focus();
  }

  function close(picker, focusToggle) {
    panelOf(picker).hidden = true;
    picker.querySelector("[data-macro-toggle]").setAttribute("aria-expanded", "false");
    if (focusToggle) picker.querySelector("[data-macro-toggle]").focus();
  }

  function load(picker) {
    picker.dataset.loaded = "loading";
    fetch(picker.dataset.listUrl, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then((response) => {
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        return response.text();
      })
      .then((html) => {
        picker.querySelector("[data-macro-options]").innerHTML = html;
        picker.dataset.loaded = "yes";
        filter(picker);
      })
      .catch(() => {
        picker.dataset.loaded = "";
        picker.querySelector("[data-macro-options]").innerHTML =
          '<li class="macro-empty muted" role="presentation">Could not load the macros. Close and try again.</li>';
      });
  }

  function filter(picker) {
    const words = searchOf(picker).value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const option of optionsOf(picker)) {
      const match = words.every((word) => option.dataset.name.includes(word));
      option.hidden = !match;
      if (match) shown += 1;
    }
    const none = picker.querySelector("[data-macro-none]");
    if (none) none.hidden = shown > 0 || optionsOf(picker).length === 0;
    const current = picker.querySelector("[data-macro-option][aria-selected=true]");
    if (!current || current.hidden) choose(picker, visibleOptions(picker)[0] || null);
  }

  function choose(picker, option) {
    for (const other of optionsOf(picker)) other.setAttribute("aria-selected", other === option ? "true" : "false");
    const search = searchOf(picker);
    if (option) {
      search.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      search.removeAttribute("aria-activedescendant");
    }
  }

  function move(picker, step) {
    const options = visibleOptions(picker);
    if (!options.length) return;
    const current = options.findIndex((option) => option.getAttribute("aria-selected") === "true");
    const next = current < 0 ? 0 : Math.min(options.length - 1, Math.max(0, current + step));
    choose(picker, options[next]);
  }

  function preview(picker, option) {
    if (!option) return;
    choose(picker, option);
    const box = previewBox(picker);
    box.dataset.for = option.id;
    fetch(option.dataset.previewUrl, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then((response) => response.text())
      .then((html) => {
        if (box.dataset.for !== option.id) return;  // a later choice won
        box.innerHTML = html;
      })
      .catch(() => { box.textContent = "Could not load the preview."; });
  }

  function csrfToken(picker) {
    const form = picker.closest("form");
    const field = form ? form.querySelector("input[name=csrfmiddlewaretoken]") : null;
    return field ? field.value : "";
  }

  function insertBody(picker, body) {
    const form = picker.closest("form");
    const text = form ? form.querySelector("textarea[name=text]") : null;
    if (!text || !body) return;
    const reply = form.querySelector("input[name=mode][value=reply]");
    if (reply && !reply.disabled && !reply.checked) {
      reply.checked = true;
      reply.dispatchEvent(new Event("change", { bubbles: true }));
    }
    const start = text.selectionStart ?? text.value.length;
    const end = text.selectionEnd ?? text.value.length;
    text.value = text.value.slice(0, start) + body + text.value.slice(end);
    const caret = start + body.length;
    text.focus();
    text.setSelectionRange(caret, caret);
    text.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function refreshTicket() {
    const pane = document.getElementById("ticket-pane");
    if (pane && pane.dataset.liveUrl && window.htmx) {
      window.htmx.ajax("GET", pane.dataset.liveUrl, { source: "#ticket-pane", target: "#ticket-pane", swap: "none" });
    }
  }

  function announce(text) {
    const region = document.getElementById("live-region");
    if (region) region.textContent = text;
  }

  function apply(picker, button) {
    const error = picker.querySelector("[data-macro-error]");
    button.disabled = true;
    fetch(button.dataset.applyUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrfToken(picker) },
    })
      .then((response) => response.json().then((data) => ({ ok: response.ok, data })))
      .then(({ ok, data }) => {
        if (!ok) throw new Error(data.error || "The macro could not be applied.");
        close(picker, false);
        previewBox(picker).innerHTML = "";
        insertBody(picker, data.body);
        announce(data.summary);
        refreshTicket();
      })
      .catch((failure) => {
        button.disabled = false;
        if (error) {
          error.textContent = failure.message || "The macro could not be applied.";
          error.hidden = false;
        }
      });
  }

  document.addEventListener("click", (event) => {
    const toggle = event.target.closest("[data-macro-toggle]");
    if (toggle) {
      const picker = pickerOf(toggle);
      if (panelOf(picker).hidden) open(picker); else close(picker, true);
      return;
    }
    const option = event.target.closest("[data-macro-option]");
    if (option) {
      preview(pickerOf(option), option);
      return;
    }
    const applyButton = event.target.closest("[data-macro-apply]");
    if (applyButton) {
      apply(pickerOf(applyButton), applyButton);
      return;
    }
    // A click outside an open picker closes it.
    for (const picker of document.querySelectorAll("[data-macro-picker]")) {
      if (!picker.contains(event.target) && !panelOf(picker).hidden) close(picker, false);
    }
  });

  document.addEventListener("input", (event) => {
    if (event.target.matches && event.target.matches("[data-macro-search]")) filter(pickerOf(event.target));
  });

  document.addEventListener("keydown", (event) => {
    const target = event.target;
    const picker = pickerOf(target);
    if (picker && !panelOf(picker).hidden && panelOf(picker).contains(target)) {
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        close(picker, true);
      } else if (target.matches("[data-macro-search]")) {
        if (event.key === "ArrowDown") { event.preventDefault(); move(picker, 1); }
        else if (event.key === "ArrowUp") { event.preventDefault(); move(picker, -1); }
        else if (event.key === "Enter") {
          // Never submit the composer from the search box.
          event.preventDefault();
          const chosen = picker.querySelector("[data-macro-option][aria-selected=true]");
          const shown = previewBox(picker).querySelector("[data-macro-apply]");
          if (chosen && shown && previewBox(picker).dataset.for === chosen.id) apply(picker, shown);
          else preview(picker, chosen);
        }
      }
      return;
    }
    if (event.defaultPrevented || isTyping(target) || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "m") {
      const first = document.querySelector("[data-macro-picker]");
      if (!first) return;
      const dialog = document.getElementById("shortcuts");
      if (dialog && dialog.open) return;
      event.preventDefault();
      open(first);
    }
  }, true);
})();
