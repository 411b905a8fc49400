// The counter's forms (check-in, call next, the queue's actions) answer with a message that
// replaces the previous one in place. A refusal answers 4xx, which htmx would not swap by
// default: the previous green box would stay. These forms show every answer.
document.addEventListener("htmx:beforeSwap", function (event) {
  var form = event.detail.requestConfig && event.detail.requestConfig.elt;
  var status = event.detail.xhr.status;
  if (form && form.hasAttribute("data-counter-answer") && status >= 400 && status < 500) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// After each check-in, clear the code and put the cursor back, so the next scan (the scanner
// types the code and Enter) goes straight in, whatever the answer was.
document.addEventListener("htmx:afterRequest", function (event) {
  var form = document.getElementById("check-in-form");
  if (!form || event.detail.elt !== form) return;
  form.reset();
  var input = form.querySelector("input[name=code]");
  if (input) input.focus();
});
