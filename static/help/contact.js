// The contact form's suggestions: as the customer types a subject, the articles that may
// answer it appear under the field. The server renders the list (escaped, with matches
// marked) and counts each article shown in this form's funnel; opening one goes through
// the server's redirect, which counts it as opened.
//
// The draft (and the form's signed token, so the funnel goes on) is kept in this tab's
// sessionStorage for an hour: a customer who reads a suggested article and comes back
// finds what they typed, even when the browser does not keep the page.
(function () {
  "use strict";
  var DELAY_MS = 250;
  var MIN_LENGTH = 3;
  var DRAFT_KEY = "help-contact-draft";
  var DRAFT_MS = 60 * 60 * 1000;
  var FIELDS = ["name", "email", "subject", "message", "order_number", "token"];

  function saveDraft(form) {
    var draft = { savedAt: Date.now() };
    FIELDS.forEach(function (name) {
      var field = form.elements[name];
      if (field) draft[name] = field.value;
    });
    try { sessionStorage.setItem(DRAFT_KEY, JSON.stringify(draft)); } catch (e) { /* private mode */ }
  }

  function restoreDraft(form) {
    var draft;
    try { draft = JSON.parse(sessionStorage.getItem(DRAFT_KEY) || "null"); } catch (e) { draft = null; }
    if (!draft || Date.now() - draft.savedAt > DRAFT_MS) return;
    // Only into an untouched form: a form the server sent back with errors keeps its values.
    var untouched = FIELDS.every(function (name) {
      return name === "token" || !form.elements[name] || !form.elements[name].value;
    });
    if (!untouched) return;
    FIELDS.forEach(function (name) {
      if (form.elements[name] && typeof draft[name] === "string") form.elements[name].value = draft[name];
    });
  }

  function setUp(form) {
    var subject = form.elements.subject;
    var token = form.elements.token;
    var box = form.querySelector("[data-suggestions]");
    var list = form.querySelector("[data-suggestions-list]");
    var status = form.querySelector("[data-suggestions-status]");
    if (!subject || !box || !list) return;
    var timer = null;
    var controller = null;
    var last = "";

    restoreDraft(form);

    function show(html) {
      list.innerHTML = html;
      var count = list.querySelectorAll("li").length;
      box.hidden = count === 0;
      if (status) {
        status.textContent = count === 0 ? "" :
          count + (count === 1 ? " article" : " articles") + " might answer your question.";
      }
    }

    function fetchSuggestions() {
      var query = subject.value.trim();
      if (query === last) return;
      last = query;
      if (controller) controller.abort();
      if (query.length < MIN_LENGTH) { show(""); return; }
      controller = typeof AbortController === "function" ? new AbortController() : null;
      var url = form.dataset.suggestionsUrl + "?q=" + encodeURIComponent(query) +
        "&lang=" + encodeURIComponent(form.dataset.lang || "") +
        "&t=" + encodeURIComponent(token ? token.value : "");
      fetch(url, { credentials: "same-origin", signal: controller ? controller.signal : undefined })
        .then(function (response) { return response.ok ? response.text() : ""; })
        .then(show)
        .catch(function () { /* aborted or offline: keep what is shown */ });
    }

    subject.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(fetchSuggestions, DELAY_MS);
    });
    form.addEventListener("input", function () { saveDraft(form); });
    list.addEventListener("click", function (event) {
      if (event.target.closest("a")) saveDraft(form);
    });
    form.addEventListener("submit", function () {
      try { sessionStorage.removeItem(DRAFT_KEY); } catch (e) { /* private mode */ }
    });
    if (subject.value.trim().length >= MIN_LENGTH) fetchSuggestions();
  }

  function start() {
    var forms = document.querySelectorAll("[data-contact-form]");
    for (var i = 0; i < forms.length; i++) setUp(forms[i]);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
