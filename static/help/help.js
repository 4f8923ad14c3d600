// The help center's small behaviours: suggestions while typing in the search box (an ARIA
// combobox with a listbox, arrow keys and Enter) and the "Was this helpful?" form sent
// without a page load. Without JavaScript both still work: the search form submits to the
// search page, the feedback form posts and shows a thank-you page.
(function () {
  "use strict";

  var DEBOUNCE_MS = 150;

  function setupSuggestions(input) {
    var list = document.getElementById(input.getAttribute("aria-controls"));
    var status = input.parentNode.querySelector("[data-help-suggest-status]");
    var endpoint = input.getAttribute("data-help-suggest");
    var lang = input.getAttribute("data-lang") || "";
    var timer = null;
    var controller = null;
    var active = -1;
    var results = [];

    function close() {
      list.hidden = true;
      list.textContent = "";
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
      results = [];
    }

    function highlight(index) {
      var options = list.querySelectorAll("[role=option]");
      active = index;
      for (var i = 0; i < options.length; i++) {
        options[i].setAttribute("aria-selected", i === index ? "true" : "false");
      }
      if (index >= 0 && options[index]) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function show(items) {
      results = items;
      list.textContent = "";
      if (!items.length) {
        close();
        if (status) status.textContent = input.value.trim() ? input.getAttribute("data-text-none") || "" : "";
        return;
      }
      items.forEach(function (item, index) {
        var option = document.createElement("li");
        option.id = list.id + "-" + index;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        var title = document.createElement("span");
        title.className = "help-suggestion-title";
        // The server escapes the title and marks matches with <mark> only.
        title.innerHTML = item.title_html;
        option.appendChild(title);
        if (item.snippet_html) {
          var snippet = document.createElement("span");
          snippet.className = "help-suggestion-snippet";
          snippet.innerHTML = item.snippet_html;
          option.appendChild(snippet);
        }
        option.addEventListener("mousedown", function (event) {
          event.preventDefault(); // keep focus in the input until we navigate
          window.location.href = item.url;
        });
        list.appendChild(option);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      active = -1;
      if (status) {
        status.textContent = (input.getAttribute("data-text-count") || "{count}").replace(
          "{count}", String(items.length));
      }
    }

    function fetchSuggestions() {
      var query = input.value.trim();
      if (query.length < 2) {
        close();
        return;
      }
      if (controller) controller.abort();
      controller = "AbortController" in window ? new AbortController() : null;
      var url = endpoint + "?q=" + encodeURIComponent(query) + "&lang=" + encodeURIComponent(lang);
      fetch(url, { headers: { Accept: "application/json" }, signal: controller ? controller.signal : undefined })
        .then(function (response) { return response.ok ? response.json() : { results: [] }; })
        .then(function (payload) {
          if (input.value.trim() === query) show(payload.results || []);
        })
        .catch(function () { /* aborted or offline: the search button still works */ });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(fetchSuggestions, DEBOUNCE_MS);
    });
    input.addEventListener("keydown", function (event) {
      var count = results.length;
      if (event.key === "ArrowDown" && count) {
        event.preventDefault();
        highlight(active + 1 >= count ? 0 : active + 1);
      } else if (event.key === "ArrowUp" && count) {
        event.preventDefault();
        highlight(active <= 0 ? count - 1 : active - 1);
      } else if (event.key === "Enter" && active >= 0 && results[active]) {
        event.preventDefault();
        window.location.href = results[active].url;
      } else if (event.key === "Escape" && !list.hidden) {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
  }

  function setupFeedback(section) {
    var form = section.querySelector("form");
    var thanks = section.querySelector(".help-feedback-thanks");
    var error = section.querySelector(".help-feedback-error");
    form.addEventListener("submit", function (event) {
      var submitter = event.submitter;
      if (!submitter || !window.fetch || !window.FormData) return; // plain post instead
      event.preventDefault();
      var data = new FormData(form);
      data.set("helpful", submitter.value);
      var buttons = form.querySelectorAll("button");
      buttons.forEach(function (button) { button.disabled = true; });
      fetch(form.action, {
        method: "POST",
        body: data,
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      })
        .then(function (response) {
          return response.json().then(function (payload) { return { ok: response.ok, payload: payload }; });
        })
        .then(function (result) {
          if (result.ok) {
            form.hidden = true;
            error.hidden = true;
            thanks.hidden = false;
            thanks.focus();
            return;
          }
          var errors = (result.payload && result.payload.errors) || {};
          var messages = [];
          Object.keys(errors).forEach(function (key) {
            errors[key].forEach(function (item) { messages.push(item.message || item); });
          });
          error.textContent = messages.join(" ") || error.getAttribute("data-text-failed");
          error.hidden = false;
          buttons.forEach(function (button) { button.disabled = false; });
        })
        .catch(function () {
          error.textContent = error.getAttribute("data-text-failed");
          error.hidden = false;
          buttons.forEach(function (button) { button.disabled = false; });
        });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-help-suggest]").forEach(setupSuggestions);
    document.querySelectorAll("[data-help-feedback]").forEach(setupFeedback);
  });
})();
