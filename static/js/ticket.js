// The ticket's buttons, shown only where they work: copy the billing code (without its spaces)
// and print the ticket. Without JavaScript the code stays selectable text.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-copy]").forEach((button) => {
    const source = document.getElementById(button.dataset.copy);
    if (!source || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(source.dataset.copyValue || source.textContent.trim());
        const label = button.textContent;
        button.textContent = button.dataset.copied;
        setTimeout(() => { button.textContent = label; }, 2000);
      } catch (error) {
        // Clipboard refused (permissions): select the text so that the user can copy it.
        window.getSelection().selectAllChildren(source);
      }
    });
  });
  document.querySelectorAll("[data-print]").forEach((button) => {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  });
});
