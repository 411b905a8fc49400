// Each document's file is sent on its own, with a progress bar; when the connection drops the
// file stays chosen and "Try again" sends it again, so a phone on a weak network never starts
// over. The server answers with the documents section rendered anew (its refusals included),
// which replaces the one on the page. Without JavaScript the forms post as they are.
(() => {
  function send(form, data) {
    const box = form.querySelector(".upload-progress");
    const bar = box.querySelector("progress");
    const message = box.querySelector(".upload-message");
    const retry = box.querySelector(".upload-retry");
    const submit = form.querySelector("button[type=submit]");
    // The last answer about this document is about another file: it goes once this one is sent.
    form.closest(".document-item").querySelectorAll(".upload-outcome").forEach((old) => old.remove());
    box.hidden = false;
    retry.hidden = true;
    submit.disabled = true;
    bar.value = 0;
    message.textContent = box.dataset.sending;

    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) {
        bar.value = Math.round((event.loaded / event.total) * 100);
        message.textContent = `${box.dataset.sending} ${bar.value}%`;
      }
    });
    const failed = () => {
      submit.disabled = false;
      message.textContent = box.dataset.failed;
      retry.hidden = false;
      retry.onclick = () => send(form, data);
      retry.focus();
    };
    request.addEventListener("load", () => {
      // A refusal (4xx) comes with the section that says why; a server error is retried.
      if (request.status >= 500 || !request.responseText.includes('id="documents"')) {
        failed();
        return;
      }
      const code = data.get("requirement");
      const holder = document.createElement("div");
      holder.innerHTML = request.responseText;
      document.getElementById("documents").replaceWith(holder.firstElementChild);
      const outcome = document.querySelector(`#requirement-${code} .upload-outcome`);
      if (outcome) {
        outcome.tabIndex = -1;
        outcome.focus();
      }
    });
    request.addEventListener("error", failed);
    request.addEventListener("timeout", failed);
    request.send(data);
  }

  document.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-upload]");
    if (!form) return;
    event.preventDefault();
    send(form, new FormData(form));
  });
})();
