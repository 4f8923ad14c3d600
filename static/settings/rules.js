// The rule builder: structured rows for conditions and actions, kept in sync with the JSON
// text areas the form posts. Without JavaScript the text areas are the editor; with it they
// are hidden and written from the rows on every change. A condition tree deeper than one
// group (possible through the API) stays in the text area, which is shown instead.
(function () {
  "use strict";

  var schemaNode = document.getElementById("rule-schema");
  var form = document.getElementById("rule-form");
  if (!schemaNode || !form) return;
  var schema = JSON.parse(schemaNode.textContent);
  var uid = 0;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key === "className") node.className = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function labelled(labelText, control) {
    var id = "ru-" + (++uid);
    control.id = id;
    return el("span", { className: "ru-cell" }, [
      el("label", { "for": id, className: "visually-hidden", text: labelText }),
      control,
    ]);
  }

  function select(options, value, multiple) {
    var node = el("select", multiple ? { multiple: "multiple", size: String(Math.min(5, Math.max(2, options.length))) } : {});
    options.forEach(function (option) {
      var opt = el("option", { value: String(option[0]), text: option[1] });
      var selected = multiple ? (value || []).map(String).indexOf(String(option[0])) !== -1 : String(value) === String(option[0]);
      if (selected) opt.selected = true;
      node.appendChild(opt);
    });
    return node;
  }

  function selectedValues(node, numeric) {
    return Array.prototype.filter.call(node.options, function (o) { return o.selected; })
      .map(function (o) { return numeric ? Number(o.value) : o.value; });
  }

  function splitList(text) {
    return text.split(",").map(function (part) { return part.trim(); }).filter(Boolean);
  }

  function rawArea(name) {
    return form.querySelector("textarea[name=" + name + "]");
  }

  // undefined when the text is not JSON (the text area stays, to show the form's error).
  function parse(text, fallback) {
    var value;
    try { value = text.trim() ? JSON.parse(text) : fallback; } catch (e) { return undefined; }
    return value === null ? fallback : value;
  }

  // --- Conditions ---------------------------------------------------------------------------

  function valueControl(fieldName, op, value) {
    var spec = schema.fields[fieldName];
    if (op === "is_empty" || op === "is_not_empty") return null;
    var kind = spec.kind;
    if (kind === "choice" || kind === "ref") {
      return { node: select(spec.options, value, true), read: function (n) { return selectedValues(n, kind === "ref"); } };
    }
    if (kind === "calendar") {
      return { node: select(spec.options, value, false), read: function (n) { return Number(n.value); } };
    }
    if (kind === "bool") {
      return { node: select([["true", "Yes"], ["false", "No"]], value === false ? "false" : "true", false), read: function (n) { return n.value === "true"; } };
    }
    if (kind === "number") {
      var number = el("input", { type: "number", min: "0", step: "any", value: value == null ? "" : String(value) });
      return { node: number, read: function (n) { return n.value === "" ? null : Number(n.value); } };
    }
    var listy = kind === "tags" || kind === "language";
    var text = el("input", { type: "text", value: value == null ? "" : (Array.isArray(value) ? value.join(", ") : String(value)), placeholder: listy ? "comma, separated" : "" });
    return { node: text, read: function (n) { return listy ? splitList(n.value) : n.value; } };
  }

  function conditionRow(list, leaf, onChange) {
    var row = el("li", { className: "ru-row" });
    var fieldNames = Object.keys(schema.fields);
    var fieldSelect = select(fieldNames.map(function (n) { return [n, schema.fields[n].label]; }), leaf.field, false);
    var opHolder = el("span", { className: "ru-op" });
    var valueHolder = el("span", { className: "ru-value" });
    var opSelect = null, reader = null;

    function renderOps(keepOp) {
      var ops = schema.fields[fieldSelect.value].ops.map(function (o) { return [o.value, o.label]; });
      var current = keepOp && ops.some(function (o) { return o[0] === keepOp; }) ? keepOp : ops[0][0];
      opSelect = select(ops, current, false);
      opSelect.addEventListener("change", function () { renderValue(null); onChange(); });
      opHolder.textContent = "";
      opHolder.appendChild(labelled("Operator", opSelect));
    }
    function renderValue(value) {
      valueHolder.textContent = "";
      var control = valueControl(fieldSelect.value, opSelect.value, value);
      reader = control;
      if (control) {
        valueHolder.appendChild(labelled("Value", control.node));
        control.node.addEventListener("change", onChange);
        control.node.addEventListener("input", onChange);
        var unit = schema.fields[fieldSelect.value].unit;
        if (unit) valueHolder.appendChild(el("span", { className: "muted", text: unit }));
      }
    }
    fieldSelect.addEventListener("change", function () { renderOps(null); renderValue(null); onChange(); });
    var remove = el("button", { type: "button", className: "st-button--secondary ru-remove", text: "Remove", "aria-label": "Remove condition" });
    remove.addEventListener("click", function () { list.removeChild(row); onChange(); });
    row.appendChild(labelled("Field", fieldSelect));
    row.appendChild(opHolder);
    row.appendChild(valueHolder);
    row.appendChild(remove);
    renderOps(leaf.op);
    renderValue(leaf.value);
    row.read = function () {
      var out = { field: fieldSelect.value, op: opSelect.value };
      if (reader) out.value = reader.read(reader.node);
      return out;
    };
    return row;
  }

  function buildConditions() {
    var area = rawArea("conditions");
    var container = document.getElementById("conditions-builder");
    var tree = parse(area.value, {});
    if (tree === undefined || typeof tree !== "object" || Array.isArray(tree)) return;
    var mode = "all", leaves = [];
    if (tree.all || tree.any) {
      mode = tree.all ? "all" : "any";
      leaves = tree[mode];
      if (leaves.some(function (n) { return !n.field || !schema.fields[n.field]; })) return; // nested groups
    } else if (Object.keys(tree).length) {
      return;
    }
    var list = el("ol", { className: "ru-rows", "aria-label": "Conditions" });
    function sync() {
      var items = Array.prototype.map.call(list.children, function (row) { return row.read(); });
      area.value = items.length ? JSON.stringify((function () { var o = {}; o[modeSelect.value] = items; return o; })()) : "{}";
      empty.hidden = items.length > 0;
    }
    var modeSelect = select([["all", "all"], ["any", "any"]], mode, false);
    modeSelect.addEventListener("change", sync);
    var intro = el("p", { className: "ru-intro" }, [document.createTextNode("Match "), labelled("Match all or any", modeSelect), document.createTextNode(" of these conditions:")]);
    var empty = el("p", { className: "muted", text: "No conditions: the rule applies to every ticket of its trigger." });
    var add = el("button", { type: "button", className: "st-button--secondary", text: "Add condition" });
    add.addEventListener("click", function () {
      var row = conditionRow(list, { field: "subject", op: "contains", value: "" }, sync);
      list.appendChild(row);
      sync();
      row.querySelector("select").focus();
    });
    leaves.forEach(function (leaf) { list.appendChild(conditionRow(list, leaf, sync)); });
    container.appendChild(intro);
    container.appendChild(list);
    container.appendChild(empty);
    container.appendChild(add);
    empty.hidden = leaves.length > 0;
    container.hidden = false;
    area.closest(".ru-raw").hidden = true;
  }

  // --- Actions ------------------------------------------------------------------------------

  function paramControl(param, value) {
    var kind = param.kind;
    if (kind.indexOf("refs:") === 0) return { node: select(param.options, value, true), read: function (n) { return selectedValues(n, true); } };
    if (kind.indexOf("ref:") === 0) return { node: select(param.options, value, false), read: function (n) { return n.value === "" ? null : Number(n.value); } };
    if (kind.indexOf("choice:") === 0) return { node: select(param.options, value, false), read: function (n) { return n.value; } };
    if (kind === "tags") {
      var tags = el("input", { type: "text", value: (value || []).join(", "), placeholder: "refund, vip" });
      return { node: tags, read: function (n) { return splitList(n.value); } };
    }
    if (kind === "url") {
      var url = el("input", { type: "url", value: value || "", placeholder: "https://" });
      return { node: url, read: function (n) { return n.value; } };
    }
    var text = el("textarea", { rows: "3" });
    text.value = value || "";
    if (kind === "template") text.setAttribute("placeholder", "Hi {{ customer.first_name }}, …");
    return { node: text, read: function (n) { return n.value; } };
  }

  function actionRow(list, action, onChange) {
    var row = el("li", { className: "ru-row ru-row--action" });
    var names = Object.keys(schema.actions);
    var typeSelect = select(names.map(function (n) { return [n, schema.actions[n].label]; }), action.type, false);
    var params = el("span", { className: "ru-params" });
    var readers = [];
    function renderParams(values) {
      params.textContent = "";
      readers = [];
      schema.actions[typeSelect.value].params.forEach(function (param) {
        var control = paramControl(param, values ? values[param.name] : undefined);
        control.node.addEventListener("change", onChange);
        control.node.addEventListener("input", onChange);
        readers.push([param.name, control]);
        params.appendChild(labelled(param.name.charAt(0).toUpperCase() + param.name.slice(1), control.node));
      });
    }
    typeSelect.addEventListener("change", function () { renderParams(null); onChange(); });
    var up = el("button", { type: "button", className: "st-button--secondary", text: "↑", "aria-label": "Move action up" });
    var down = el("button", { type: "button", className: "st-button--secondary", text: "↓", "aria-label": "Move action down" });
    var remove = el("button", { type: "button", className: "st-button--secondary ru-remove", text: "Remove", "aria-label": "Remove action" });
    up.addEventListener("click", function () { if (row.previousElementSibling) { list.insertBefore(row, row.previousElementSibling); onChange(); up.focus(); } });
    down.addEventListener("click", function () { if (row.nextElementSibling) { list.insertBefore(row.nextElementSibling, row); onChange(); down.focus(); } });
    remove.addEventListener("click", function () { list.removeChild(row); onChange(); });
    row.appendChild(labelled("Action", typeSelect));
    row.appendChild(params);
    row.appendChild(el("span", { className: "ru-row-tools" }, [up, down, remove]));
    renderParams(action);
    row.read = function () {
      var out = { type: typeSelect.value };
      readers.forEach(function (pair) { out[pair[0]] = pair[1].read(pair[1].node); });
      return out;
    };
    return row;
  }

  function buildActions() {
    var area = rawArea("actions");
    var container = document.getElementById("actions-builder");
    var actions = parse(area.value, []);
    if (!Array.isArray(actions)) return;
    if (actions.some(function (a) { return !a || !schema.actions[a.type]; })) return;
    var list = el("ol", { className: "ru-rows", "aria-label": "Actions, in order" });
    function sync() {
      area.value = JSON.stringify(Array.prototype.map.call(list.children, function (row) { return row.read(); }));
      empty.hidden = list.children.length > 0;
    }
    var empty = el("p", { className: "muted", text: "Add at least one action." });
    var add = el("button", { type: "button", className: "st-button--secondary", text: "Add action" });
    add.addEventListener("click", function () {
      var row = actionRow(list, { type: "add_tags", tags: [] }, sync);
      list.appendChild(row);
      sync();
      row.querySelector("select").focus();
    });
    actions.forEach(function (action) { list.appendChild(actionRow(list, action, sync)); });
    container.appendChild(list);
    container.appendChild(empty);
    container.appendChild(add);
    empty.hidden = actions.length > 0;
    container.hidden = false;
    area.closest(".ru-raw").hidden = true;
  }

  // --- Trigger-dependent fields -------------------------------------------------------------

  function showForTrigger() {
    var trigger = form.querySelector("[name=trigger]").value;
    form.querySelectorAll("[data-show-for]").forEach(function (node) {
      node.hidden = node.getAttribute("data-show-for") !== trigger;
    });
    var basis = form.querySelector("[name=time_basis]");
    var statusField = document.getElementById("time-status-field");
    if (basis && statusField) statusField.hidden = basis.value !== "status_for";
  }

  var deleteForm = document.querySelector("form.ru-delete");
  if (deleteForm) {
    deleteForm.addEventListener("submit", function (event) {
      if (!window.confirm("Delete this rule? Its history on tickets stays.")) event.preventDefault();
    });
  }

  buildConditions();
  buildActions();
  showForTrigger();
  form.querySelector("[name=trigger]").addEventListener("change", showForTrigger);
  var basisSelect = form.querySelector("[name=time_basis]");
  if (basisSelect) basisSelect.addEventListener("change", showForTrigger);
  // Hidden trigger-specific inputs must not post stale values.
  form.addEventListener("submit", function () {
    form.querySelectorAll("[data-show-for][hidden] input, [data-show-for][hidden] select").forEach(function (input) {
      if (input.type === "checkbox") input.checked = false; else input.value = "";
    });
    var statusField = document.getElementById("time-status-field");
    if (statusField && statusField.hidden) statusField.querySelector("select").value = "";
  });
})();
