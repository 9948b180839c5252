/* MEG's only script of its own (the Content-Security-Policy allows no inline JavaScript).
 *
 * data-confirm="…" on a button, a link or a form asks the question before the click or the
 * submission goes ahead; the text comes from the attribute, escaped by the template. */
"use strict";

document.addEventListener("click", (event) => {
  const trigger = event.target.closest("[data-confirm]");
  if (!trigger || trigger.tagName === "FORM") {
    return;
  }
  if (!window.confirm(trigger.dataset.confirm)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);
