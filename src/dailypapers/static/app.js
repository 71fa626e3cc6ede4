// The page's small helpers; everything works without them (forms post, links lead).
//   - upvote, save to a collection, and follow, without reloading the page;
//   - the light/dark switch in the header, remembered in localStorage (theme.js applies it);
//   - keyboard shortcuts: / search, j/k next/previous paper, u upvote, o open, ? help.
"use strict";

// Upvotes: the same forms, sent with fetch.
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

// "Save" to a collection: the same forms, sent to the JSON API. With no collection yet, the
// first save makes the "Reading list" (as the form does without JavaScript).
document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.classList.contains("collect-form")) return;
  event.preventDefault();
  const field = (name) => form.querySelector(`input[name=${name}]`);
  const button = form.querySelector("button");
  const headers = { "X-CSRF-Token": field("csrf_token").value, "Content-Type": "application/json" };
  const add = field("action").value !== "remove";
  button.disabled = true;
  try {
    if (!field("collection_id").value) {
      const made = await fetch("/api/collections", {
        method: "POST", headers, credentials: "same-origin",
        body: JSON.stringify({ name: button.textContent.trim() }),
      });
      if (!made.ok) {
        form.submit();
        return;
      }
      const id = (await made.json()).id;
      // Every other card's "Reading list" button now names it too.
      document.querySelectorAll(".collect-form input[name=collection_id]").forEach((input) => {
        if (!input.value) input.value = id;
      });
    }
    const url = `/api/collections/${field("collection_id").value}/papers/${encodeURIComponent(field("arxiv_id").value)}`;
    const response = await fetch(url, { method: add ? "PUT" : "DELETE", headers, credentials: "same-origin" });
    if (!response.ok) {
      form.submit(); // let the server explain (log in, confirm, too many requests)
      return;
    }
    const state = await response.json();
    button.setAttribute("aria-pressed", state.saved ? "true" : "false");
    field("action").value = state.saved ? "remove" : "add";
    const control = form.closest(".collect");
    const saved = control.querySelector(".collect-button[aria-pressed=true]") !== null;
    control.querySelector(".collect-label").textContent = saved ? "Saved" : "Save";
  } finally {
    button.disabled = false;
  }
});

// An open "Save" or card "Follow" menu closes with Escape or a click elsewhere (one menu open
// at a time).
document.addEventListener("click", (event) => {
  const menus = ".collect, .card-follow";
  const inside = event.target instanceof Element ? event.target.closest(menus) : null;
  document.querySelectorAll("details.collect[open], details.card-follow[open]").forEach((open) => {
    if (open !== inside) open.open = false;
  });
});
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const open = document.querySelector("details.collect[open], details.card-follow[open]");
  if (open) {
    open.open = false;
    open.querySelector("summary").focus();
  }
});

// Theme: the reader's choice wins over the system's; the button shows which one is on.
const root = document.documentElement;
const systemDark = window.matchMedia("(prefers-color-scheme: dark)");

function darkNow() {
  const chosen = root.dataset.theme;
  return chosen ? chosen === "dark" : systemDark.matches;
}

function showTheme(button) {
  const dark = darkNow();
  button.setAttribute("aria-pressed", dark ? "true" : "false");
  button.title = dark ? "Switch to the light theme" : "Switch to the dark theme";
}

const themeButton = document.querySelector(".theme-toggle");
if (themeButton) {
  themeButton.hidden = false;
  showTheme(themeButton);
  systemDark.addEventListener("change", () => showTheme(themeButton));
  themeButton.addEventListener("click", () => {
    const theme = darkNow() ? "light" : "dark";
    root.dataset.theme = theme;
    try {
      localStorage.setItem("theme", theme);
    } catch (error) {
      // Not remembered (storage blocked); it still applies to this page.
    }
    showTheme(themeButton);
  });
}

// Keyboard shortcuts. Never while typing, never with Ctrl/Alt/Meta (the browser's own keys).
let current = -1;

function cards() {
  return Array.from(document.querySelectorAll("article.card"));
}

function typing(target) {
  if (!(target instanceof Element)) return false;
  return target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']") !== null;
}

function select(index) {
  const all = cards();
  if (all.length === 0) return;
  current = Math.max(0, Math.min(index, all.length - 1));
  all.forEach((card, i) => card.classList.toggle("current", i === current));
  const smooth = !window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  all[current].scrollIntoView({ block: "nearest", behavior: smooth ? "smooth" : "auto" });
}

function currentCard() {
  const all = cards();
  return current >= 0 && current < all.length ? all[current] : null;
}

document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.isComposing || typing(event.target)) return;
  const key = event.key;
  if (key === "/") {
    const search = document.querySelector("#site-search, .search-filters input[type=search]");
    if (!search) return;
    event.preventDefault();
    search.focus();
    search.select();
  } else if (key === "j") {
    select(current + 1);
  } else if (key === "k") {
    select(current < 0 ? 0 : current - 1);
  } else if (key === "u") {
    const card = currentCard();
    const vote = card && card.querySelector(".vote-button, a.votes");
    if (vote) vote.click();
  } else if (key === "o") {
    const card = currentCard();
    const link = card && card.querySelector(".card-title a");
    if (link) window.location.assign(link.href);
  } else if (key === "?") {
    window.location.assign("/help");
  }
});

// The phone menu (a <details>) closes with Escape or a click elsewhere.
const menu = document.querySelector(".menu-toggle");
if (menu) {
  document.addEventListener("click", (event) => {
    const inside = event.target instanceof Element && event.target.closest(".menu-toggle, .site-menu");
    if (menu.open && !inside) menu.open = false;
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && menu.open) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });
}

// The account menu (a <details> behind the member's name) closes the same way.
const accountMenu = document.querySelector(".account-menu");
if (accountMenu) {
  document.addEventListener("click", (event) => {
    const inside = event.target instanceof Element && event.target.closest(".account-menu");
    if (accountMenu.open && !inside) accountMenu.open = false;
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && accountMenu.open) {
      accountMenu.open = false;
      accountMenu.querySelector("summary").focus();
    }
  });
}

// A click on a card makes it the current one (quietly), so j/k continue from there.
document.addEventListener("click", (event) => {
  const card = event.target instanceof Element ? event.target.closest("article.card") : null;
  if (!card) return;
  current = cards().indexOf(card);
  cards().forEach((other) => {
    if (other !== card) other.classList.remove("current");
  });
});

// "Follow" buttons: the same forms, sent to the JSON API; every button of the page for the
// same author, category, topic or collection turns with it.
document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.classList.contains("follow-form")) return;
  event.preventDefault();
  const field = (name) => form.querySelector(`input[name=${name}]`);
  const button = form.querySelector("button");
  const follow = field("action").value !== "unfollow";
  button.disabled = true;
  try {
    const response = await fetch("/api/following", {
      method: follow ? "PUT" : "DELETE",
      headers: { "X-CSRF-Token": field("csrf_token").value, "Content-Type": "application/json" },
      credentials: "same-origin",
      body: JSON.stringify({ kind: field("kind").value, value: field("value").value }),
    });
    if (!response.ok) {
      form.submit(); // let the server explain (log in, confirm, too many follows)
      return;
    }
    const state = await response.json();
    const same = (text) => text.trim().split(/\s+/).join(" ");
    document.querySelectorAll("form.follow-form").forEach((other) => {
      const input = (name) => other.querySelector(`input[name=${name}]`);
      if (input("kind").value !== state.kind || same(input("value").value) !== same(state.value)) return;
      const otherButton = other.querySelector("button");
      otherButton.setAttribute("aria-pressed", state.following ? "true" : "false");
      otherButton.querySelector(".follow-text").textContent = state.following
        ? otherButton.dataset.followingText
        : otherButton.dataset.followText;
      input("action").value = state.following ? "unfollow" : "follow";
    });
    // A card's "Follow" menu says "Following" while it holds a followed author or category.
    document.querySelectorAll("details.card-follow").forEach((menu) => {
      const any = menu.querySelector('button[aria-pressed="true"]') !== null;
      menu.querySelector(".card-follow-label").textContent = any ? "Following" : "Follow";
    });
  } finally {
    button.disabled = false;
  }
});
