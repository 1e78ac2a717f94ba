// After a failed submit, move focus to the error summary so that screen readers
// announce it and keyboard users start from the list of problems; on a patient page,
// to the notice to get help now for an urgent warning sign, else to the one that says
// the answers are saved.
document.addEventListener("DOMContentLoaded", function () {
  var notice =
    document.getElementById("error-summary") ||
    document.getElementById("urgent-notice") ||
    document.getElementById("saved-notice");
  if (notice) {
    notice.focus();
  }
});
