// Repeatable rows (templates/_fields.html): "Add a row" copies the row template with the next
// row number and raises the form's hidden count. Without this script the form still works: it
// offers empty rows, and sending it offers new ones.
(function () {
  "use strict";
  function enhance(fieldset) {
    var button = fieldset.querySelector("[data-add-row]");
    var template = fieldset.querySelector("template[data-row-template]");
    var count = fieldset.querySelector("[data-row-count]");
    var body = fieldset.querySelector("[data-row-body]");
    if (!button || !template || !count || !body) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      var index = parseInt(count.value, 10) || 0;
      var html = template.innerHTML
        .replace(/__i__/g, String(index))
        .replace(/__n__/g, String(index + 1));
      body.insertAdjacentHTML("beforeend", html);
      count.value = String(index + 1);
      var first = body.lastElementChild && body.lastElementChild.querySelector("input, select");
      if (first) {
        first.focus();
      }
    });
  }
  function start() {
    var sets = document.querySelectorAll("fieldset[data-rows]");
    for (var i = 0; i < sets.length; i += 1) {
      enhance(sets[i]);
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
