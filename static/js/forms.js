// After a failed submit, move focus to the error summary so that screen readers
// announce it and keyboard users start from the list of problems; after a save on a
// patient page, to the notice that says it is saved.
document.addEventListener("DOMContentLoaded", function () {
  var notice = document.getElementById("error-summary") || document.getElementById("saved-notice");
  if (notice) {
    notice.focus();
  }
});
