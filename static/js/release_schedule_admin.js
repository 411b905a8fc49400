// Release schedule form: show only the field of the chosen kind (rolling, weekly, monthly).
document.addEventListener("DOMContentLoaded", () => {
  const kind = document.getElementById("id_kind");
  if (!kind) return;
  const show = () => {
    document.querySelectorAll("fieldset.release-kind").forEach((fieldset) => {
      fieldset.hidden = !fieldset.classList.contains(`release-kind-${kind.value}`);
    });
  };
  kind.addEventListener("change", show);
  show();
});
