// Start GOV.UK Frontend and MoJ Frontend components once the modules have loaded.
import { initAll } from "/static/govuk/govuk-frontend.min.js";
initAll();

// The kiosk page sets data-idle-timeout: return to sign-in after that many idle seconds
// (the server also ends the session; this only clears the screen for the next person).
const idle = document.body.dataset.idleTimeout;
if (idle) {
  let timer;
  const reset = () => {
    clearTimeout(timer);
    timer = setTimeout(() => { window.location.href = document.body.dataset.idleUrl; }, idle * 1000);
  };
  ["click", "keydown", "touchstart", "mousemove"].forEach((e) => document.addEventListener(e, reset));
  reset();
}
