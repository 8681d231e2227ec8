// The monitoring console's live region (htmx polls monitoring:console_rows every 2 s) and the
// audible cue for a new high-priority alert. Loaded as a module from our own origin: the CSP
// allows no inline script.

const region = document.querySelector("[data-console-rows]");
if (region) {
  const live = document.querySelector("[data-console-live]");
  const updated = document.querySelector("[data-console-updated]");
  const stale = document.querySelector("[data-console-stale]");
  const rowsPath = new URL(region.getAttribute("hx-get"), window.location.href).pathname;
  // Warn if nothing fresh has arrived for this long (a few missed polls).
  const STALE_AFTER_MS = 8000;
  let lastResponse = null;
  let lastSuccess = Date.now();

  // --- sound -------------------------------------------------------------------------------
  const controls = document.querySelector("[data-sound]");
  const toggle = document.querySelector("[data-sound-toggle]");
  const status = document.querySelector("[data-sound-status]");
  const cue = document.querySelector("[data-sound-cue]");
  const PREFERENCE = "saferprisons.monitoring.sound";
  const readPreference = () => {
    try {
      return window.localStorage.getItem(PREFERENCE) !== "off";
    } catch {
      return true;
    }
  };
  let soundOn = readPreference();

  const showSound = (message) => {
    toggle.textContent = soundOn ? "Mute the alert sound" : "Turn the alert sound on";
    status.textContent = message || (soundOn
      ? "A sound plays when a new high-priority alert appears."
      : "The alert sound is off in this browser.");
  };

  const highAlerts = () => new Set(
    Array.from(region.querySelectorAll("[data-cue]"), (row) => row.dataset.alertId),
  );
  let heard = highAlerts();

  // Counted on the rows region (data-cue-count, data-cue-muted) so a test can see the cue.
  const count = (name) => { region.dataset[name] = String(Number(region.dataset[name] || 0) + 1); };
  const playCue = () => {
    if (!soundOn || !cue) {
      count("cueMuted");
      return;
    }
    count("cueCount");
    cue.currentTime = 0;
    const playing = cue.play();
    if (playing && playing.catch) {
      playing
        .then(() => count("cuePlayed"))
        .catch(() => showSound("The browser blocked the sound: select anywhere on this page once to allow it."));
    }
  };

  if (controls && toggle && status) {
    controls.hidden = false;
    showSound();
    toggle.addEventListener("click", () => {
      soundOn = !soundOn;
      try {
        window.localStorage.setItem(PREFERENCE, soundOn ? "on" : "off");
      } catch {
        // A browser that keeps nothing still mutes for this page.
      }
      showSound();
    });
    // Browsers play sound only after the person has used the page: the first click or key
    // unlocks it silently, so the next alert can be heard.
    const unlock = () => {
      if (!cue) return;
      cue.muted = true;
      const primed = cue.play();
      const restore = () => { cue.pause(); cue.currentTime = 0; cue.muted = false; };
      if (primed && primed.then) primed.then(restore, restore); else restore();
    };
    document.addEventListener("pointerdown", unlock, { once: true });
    document.addEventListener("keydown", unlock, { once: true });
  }

  // --- the live region ---------------------------------------------------------------------
  const isConsole = (xhr) => xhr.status === 200 && new URL(xhr.responseURL).pathname === rowsPath;

  region.addEventListener("htmx:beforeSwap", (event) => {
    const xhr = event.detail.xhr;
    // A redirect to sign-in (session ended) or an error page is never put into the console.
    if (!isConsole(xhr)) {
      event.detail.shouldSwap = false;
      return;
    }
    // Unchanged rows are not swapped: focus, scroll position and screen readers stay put.
    if (xhr.responseText === lastResponse) event.detail.shouldSwap = false;
    lastResponse = xhr.responseText;
  });

  region.addEventListener("htmx:afterRequest", (event) => {
    const xhr = event.detail.xhr;
    if (event.detail.successful && xhr && isConsole(xhr)) {
      lastSuccess = Date.now();
      const at = xhr.getResponseHeader("X-Console-Updated");
      if (updated && at) updated.textContent = at;
      if (stale) stale.hidden = true;
    }
  });

  region.addEventListener("htmx:afterSwap", () => {
    const summary = region.querySelector("[data-summary]");
    if (live && summary && live.textContent.trim() !== summary.dataset.summary) {
      live.textContent = summary.dataset.summary;
    }
    const now = highAlerts();
    const fresh = [...now].some((id) => !heard.has(id));
    heard = now;
    if (fresh) playCue();
  });

  setInterval(() => {
    if (stale && Date.now() - lastSuccess > STALE_AFTER_MS) stale.hidden = false;
  }, 1000);
}
