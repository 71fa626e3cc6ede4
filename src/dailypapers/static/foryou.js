// For you: "Not interested" without reloading the page. The form posts to /for-you/not-interested
// without JavaScript; here it goes to the JSON API, the card leaves at once and an "Undo"
// takes its place (which brings it back).
"use strict";

document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.classList.contains("not-interested-form")) return;
  event.preventDefault();
  const pick = form.closest(".pick");
  const token = form.querySelector("input[name=csrf_token]").value;
  const url = `/api/papers/${encodeURIComponent(form.dataset.arxivId)}/not-interested`;
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    const response = await fetch(url, {
      method: "POST", headers: { "X-CSRF-Token": token }, credentials: "same-origin",
    });
    if (!response.ok) {
      form.submit(); // let the server explain (log in, confirm, too many requests)
      return;
    }
    const note = document.createElement("p");
    note.className = "notice dismissed-note";
    note.setAttribute("role", "status");
    const words = document.createElement("span");
    words.textContent = `You will not see “${pick.dataset.title}” in For you again. `;
    const undo = document.createElement("button");
    undo.type = "button";
    undo.className = "link-button";
    undo.textContent = "Undo";
    undo.addEventListener("click", async () => {
      undo.disabled = true;
      const back = await fetch(url, {
        method: "DELETE", headers: { "X-CSRF-Token": token }, credentials: "same-origin",
      });
      undo.disabled = false;
      if (!back.ok) return;
      note.remove();
      pick.hidden = false;
    });
    note.append(words, undo);
    pick.before(note);
    pick.hidden = true;
    undo.focus();
  } finally {
    button.disabled = false;
  }
});
