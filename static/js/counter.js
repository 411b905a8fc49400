// The day's counter: after each check-in (htmx), clear the code and put the cursor back,
// so the next scan (the scanner types the code and Enter) goes straight in.
document.addEventListener("htmx:afterRequest", function (event) {
  var form = document.getElementById("check-in-form");
  if (!form || event.detail.elt !== form) return;
  form.reset();
  var input = form.querySelector("input[name=code]");
  if (input) input.focus();
});
