// The warning before a staff session ends (templates/signin/includes/session_timeout.html).
//
// The server decides: the page asks it how long is left (a request that does not count
// as activity) shortly before the warning is due, since another tab may have been used
// meanwhile. Inside the warning time the dialog opens with focus on "Stay signed in";
// staying is a POST, the only request this script makes that extends the session. When
// the time is up the page goes to the sign-in page, which says why.
(function () {
  "use strict";

  var dialog = document.getElementById("session-timeout");
  if (!dialog || typeof dialog.showModal !== "function") {
    return;
  }
  var warningSeconds = Number(dialog.dataset.warningSeconds);
  var countdown = dialog.querySelector("[data-countdown]");
  var stayForm = dialog.querySelector("[data-stay]");
  var timer = null;
  var ticker = null;
  var endsAt = 0;

  function secondsText(seconds) {
    return seconds + (seconds === 1 ? " second" : " seconds");
  }

  function goToSignIn() {
    var next = window.location.pathname + window.location.search;
    window.location.assign(dialog.dataset.signInUrl + "?next=" + encodeURIComponent(next));
  }

  function showReason(reason) {
    dialog.querySelectorAll("[data-when]").forEach(function (element) {
      element.hidden = element.dataset.when !== reason;
    });
  }

  function tick() {
    var left = Math.max(0, Math.round((endsAt - Date.now()) / 1000));
    countdown.textContent = secondsText(left);
  }

  function openWarning(reason) {
    showReason(reason);
    tick();
    if (!dialog.open) {
      dialog.showModal();
      var first = dialog.querySelector("form:not([hidden]) button");
      if (first) {
        first.focus();
      }
    }
    if (!ticker) {
      ticker = window.setInterval(tick, 1000);
    }
  }

  function closeWarning() {
    if (dialog.open) {
      dialog.close();
    }
    window.clearInterval(ticker);
    ticker = null;
  }

  function schedule(status) {
    window.clearTimeout(timer);
    // Only the server ends a session (and records why); the page follows it.
    if (!status.signed_in) {
      goToSignIn();
      return;
    }
    if (status.seconds_left <= 0) {
      timer = window.setTimeout(check, 1000);
      return;
    }
    endsAt = Date.now() + status.seconds_left * 1000;
    if (status.seconds_left > warningSeconds) {
      closeWarning();
      timer = window.setTimeout(check, (status.seconds_left - warningSeconds) * 1000);
    } else {
      openWarning(status.ends_because);
      // A moment after the end, so that the server sees the time as up.
      timer = window.setTimeout(check, status.seconds_left * 1000 + 500);
    }
  }

  function read(response) {
    // A redirect means the session had already ended (to the sign-in page).
    if (response.redirected || !response.ok) {
      return { signed_in: false };
    }
    return response.json();
  }

  function check() {
    fetch(dialog.dataset.statusUrl, { credentials: "same-origin", cache: "no-store" })
      .then(read)
      .then(schedule)
      .catch(function () {
        // Offline for a moment: ask again shortly rather than sign out on a hiccup.
        timer = window.setTimeout(check, 5000);
      });
  }

  function stay(event) {
    if (event) {
      event.preventDefault();
    }
    fetch(stayForm.action, {
      method: "POST",
      body: new FormData(stayForm),
      credentials: "same-origin",
      cache: "no-store",
    })
      .then(read)
      .then(schedule)
      .catch(function () {
        timer = window.setTimeout(check, 1000);
      });
  }

  stayForm.addEventListener("submit", stay);
  // Escape is the person answering: they are here, so they stay (when they can).
  dialog.addEventListener("cancel", function (event) {
    if (!stayForm.hidden) {
      event.preventDefault();
      stay();
    }
  });
  // A page restored from the back-forward cache has an old idea of the time left.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      check();
    }
  });

  schedule({
    signed_in: true,
    seconds_left: Number(dialog.dataset.secondsLeft),
    ends_because: dialog.dataset.endsBecause,
  });
})();
