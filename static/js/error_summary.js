/* The error summary (templates/_error_summary.html), as the GOV.UK Design System's:
 * focused when the page loads, so that it is what a screen reader reads first and where
 * the keyboard starts; a link of it focuses its field, and scrolls the field's question
 * (its label, or the legend of its group) into view with it, not the bare input.
 * No inline script anywhere: the content security policy allows scripts from 'self' only.
 */
(function () {
  "use strict";

  var summary = document.querySelector("[data-error-summary]");
  if (!summary) {
    return;
  }

  // The legend of the input's fieldset when both fit in the top half of the screen (a
  // group of radios or checkboxes, a short fieldset), else the input's own label.
  function question(input) {
    var fieldset = input.closest("fieldset");
    var legend = fieldset && fieldset.querySelector("legend");
    if (legend) {
      var inputBox = input.getBoundingClientRect();
      var legendTop = legend.getBoundingClientRect().top;
      if (inputBox.height && inputBox.bottom - legendTop < window.innerHeight / 2) {
        return legend;
      }
    }
    var id = input.getAttribute("id");
    var label = id && document.querySelector('label[for="' + CSS.escape(id) + '"]');
    return label || input.closest("label") || input;
  }

  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    if (!link || !summary.contains(link)) {
      return;
    }
    var input = document.getElementById(decodeURIComponent(link.hash.slice(1)));
    if (!input) {
      return;
    }
    event.preventDefault();
    // A field folded away in a closed <details> is opened first.
    for (var parent = input.parentElement; parent; parent = parent.parentElement) {
      if (parent.tagName === "DETAILS" && !parent.open) {
        parent.open = true;
      }
    }
    question(input).scrollIntoView();
    input.focus({ preventScroll: true });
  });

  summary.focus();
})();
