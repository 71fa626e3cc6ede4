// Runs in <head>, before the page is painted: applies the theme the reader chose (dark or
// light) so that the page never flashes the other one. No choice: the system's setting rules.
"use strict";
(() => {
  try {
    const theme = localStorage.getItem("theme");
    if (theme === "dark" || theme === "light") document.documentElement.dataset.theme = theme;
  } catch (error) {
    // Storage blocked (private mode, cookies off): the system's theme it is.
  }
})();
