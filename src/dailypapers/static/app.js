// Upvote without reloading the page. Without JavaScript the same forms post and redirect.
"use strict";

document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.classList.contains("vote-form")) return;
  event.preventDefault();
  const button = form.querySelector("button");
  const action = form.querySelector("input[name=action]");
  const up = action.value !== "down";
  button.disabled = true;
  try {
    const response = await fetch(`/api/papers/${encodeURIComponent(form.dataset.arxivId)}/upvote`, {
      method: up ? "POST" : "DELETE",
      headers: { "X-CSRF-Token": form.querySelector("input[name=csrf_token]").value },
      credentials: "same-origin",
    });
    if (!response.ok) {
      form.submit(); // let the server explain (log in, confirm, too many requests)
      return;
    }
    const state = await response.json();
    form.querySelector(".vote-count").textContent = state.upvotes;
    button.setAttribute("aria-pressed", state.upvoted ? "true" : "false");
    button.title = state.upvoted ? "Take back your upvote" : "Upvote";
    action.value = state.upvoted ? "down" : "up";
  } finally {
    button.disabled = false;
  }
});
