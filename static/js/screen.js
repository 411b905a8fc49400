// The waiting-room screen asks for its numbers every few seconds (htmx). When its address was
// replaced (404), reload, so the screen says so instead of showing stale numbers.
document.addEventListener("htmx:responseError", function (event) {
  if (event.detail.xhr.status === 404) window.location.reload();
});
