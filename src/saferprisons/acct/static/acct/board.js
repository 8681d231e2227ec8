// The wing safety board's live region (htmx polls acct:board_rows) and the handover sheet's
// Print button. Loaded as a module from our own origin: the CSP allows no inline script.

const region = document.querySelector("[data-board-rows]");
if (region) {
  const live = document.querySelector("[data-board-live]");
  const updated = document.querySelector("[data-board-updated]");
  const stale = document.querySelector("[data-board-stale]");
  const rowsPath = new URL(region.getAttribute("hx-get"), window.location.href).pathname;
  // Warn if nothing fresh has arrived for this long (three missed polls and a bit).
  const STALE_AFTER_MS = 10000;
  let lastResponse = null;
  let lastSuccess = Date.now();

  const isBoard = (xhr) => xhr.status === 200 && new URL(xhr.responseURL).pathname === rowsPath;

  region.addEventListener("htmx:beforeSwap", (event) => {
    const xhr = event.detail.xhr;
    // A redirect to sign-in (session ended) or an error page is never put into the board.
    if (!isBoard(xhr)) {
      event.detail.shouldSwap = false;
      return;
    }
    // Unchanged rows are not swapped: focus, scroll position and screen readers stay put.
    if (xhr.responseText === lastResponse) event.detail.shouldSwap = false;
    lastResponse = xhr.responseText;
  });

  region.addEventListener("htmx:afterRequest", (event) => {
    const xhr = event.detail.xhr;
    if (event.detail.successful && xhr && isBoard(xhr)) {
      lastSuccess = Date.now();
      const at = xhr.getResponseHeader("X-Board-Updated");
      if (updated && at) updated.textContent = at;
      if (stale) stale.hidden = true;
    }
  });

  region.addEventListener("htmx:afterSwap", () => {
    const summary = region.querySelector("[data-summary]");
    if (live && summary && live.textContent.trim() !== summary.dataset.summary) {
      live.textContent = summary.dataset.summary;
    }
  });

  setInterval(() => {
    if (stale && Date.now() - lastSuccess > STALE_AFTER_MS) stale.hidden = false;
  }, 1000);
}

for (const button of document.querySelectorAll("[data-print]")) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}
