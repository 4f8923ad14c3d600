// The knowledge-base editor: keyboard shortcuts, image upload into the Markdown, confirms.
// Everything here is an improvement on forms that already work without it.
(function () {
  "use strict";

  // Before the agent has put the cursor in the body, an image goes at its end.
  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("[data-markdown-source]")) {
      event.target.dataset.touched = "true";
    }
  });

  function insertAtCursor(textarea, text) {
    var value = textarea.value;
    var touched = textarea.dataset.touched === "true";
    var start = touched ? textarea.selectionStart : value.length;
    var end = touched ? textarea.selectionEnd : value.length;
    var before = value.slice(0, start), after = value.slice(end);
    var lead = before && !before.endsWith("\n") ? "\n\n" : "";
    var trail = after && !after.startsWith("\n") ? "\n\n" : "";
    textarea.value = before + lead + text + trail + after;
    var caret = (before + lead + text).length;
    textarea.setSelectionRange(caret, caret);
    textarea.focus();
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  document.addEventListener("keydown", function (event) {
    var form = document.querySelector("[data-save-shortcut]");
    if (form && (event.ctrlKey || event.metaKey) && (event.key === "s" || event.key === "Enter")) {
      event.preventDefault();
      form.requestSubmit();
      return;
    }
    var target = event.target;
    var typing = target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement ||
      target instanceof HTMLSelectElement || (target && target.isContentEditable);
    if (!typing && event.key === "/") {
      var search = document.querySelector("[data-focus-key='/']");
      if (search) { event.preventDefault(); search.focus(); }
    }
  });

  // A new article's slug follows its title until the agent types a slug of their own.
  function slugify(text) {
    return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^a-z0-9\s-]/g, "").trim().replace(/[\s-]+/g, "-").slice(0, 120);
  }
  document.addEventListener("input", function (event) {
    var form = event.target.closest("[data-new-article]");
    if (!form) return;
    var slug = form.querySelector("input[name=slug]");
    if (event.target === slug) { slug.dataset.edited = slug.value ? "true" : ""; return; }
    if (event.target.name === "title" && slug && !slug.dataset.edited) {
      slug.value = slugify(event.target.value);
    }
  });

  document.addEventListener("click", function (event) {
    var pick = event.target.closest("[data-image-pick]");
    if (pick) {
      var details = document.getElementById("kb-image-details");
      if (details) {
        details.open = true;
        details.scrollIntoView({ block: "nearest" });
        var file = details.querySelector("input[type=file]");
        if (file) file.focus();
      }
      return;
    }
    var confirmer = event.target.closest("[data-confirm]");
    if (confirmer && !window.confirm(confirmer.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target.closest("[data-image-upload]");
    var textarea = document.querySelector("[data-markdown-source]");
    if (!form || !textarea) return;
    event.preventDefault();
    var status = form.querySelector("[data-upload-status]");
    var button = form.querySelector("button[type=submit]");
    status.textContent = "Uploading…";
    button.disabled = true;
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (result) {
      if (!result.ok) { status.textContent = result.data.error || "The upload failed."; return; }
      insertAtCursor(textarea, result.data.markdown);
      status.textContent = "Inserted into the body.";
      form.reset();
    }).catch(function () {
      status.textContent = "The upload failed: check the connection and try again.";
    }).finally(function () { button.disabled = false; });
  });
})();
