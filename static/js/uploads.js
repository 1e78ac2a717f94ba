// The photos page's file, sent in the background: a progress bar while it goes, and
// one more try if the connection drops. Without this script the form posts as usual;
// with it, the server's answer is the same page, shown in place of this one.
function sendFilesInTheBackground() {
  var form = document.getElementById("attachment-form");
  var progress = document.getElementById("upload-progress");
  if (!form || !progress || !window.FormData || !window.DOMParser) {
    return;
  }
  var bar = progress.querySelector("progress");
  var status = progress.querySelector("[role=status]");

  function showPage(html) {
    var page = new DOMParser().parseFromString(html, "text/html");
    document.title = page.title;
    document.querySelector(".patient-page").replaceWith(page.querySelector(".patient-page"));
    var focus = document.getElementById("error-summary") || document.getElementById("attachment-notice");
    if (focus) {
      focus.focus();
    }
    // The new page's form gets this script's help too.
    sendFilesInTheBackground();
  }

  function send(data, triesLeft) {
    var request = new XMLHttpRequest();
    request.open("POST", form.action || window.location.href);
    request.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) {
        bar.value = Math.round((100 * event.loaded) / event.total);
      }
    });
    request.addEventListener("load", function () {
      showPage(request.responseText);
    });
    request.addEventListener("error", function () {
      if (triesLeft > 0) {
        status.textContent = progress.dataset.retrying;
        send(data, triesLeft - 1);
      } else {
        status.textContent = progress.dataset.failed;
        form.querySelector("button[type=submit]").disabled = false;
      }
    });
    request.send(data);
  }

  form.addEventListener("submit", function (event) {
    var file = form.querySelector("input[type=file]");
    if (!file.files.length) {
      return; // the server says what is missing, as without this script
    }
    event.preventDefault();
    progress.hidden = false;
    bar.value = 0;
    status.textContent = progress.dataset.sending;
    form.querySelector("button[type=submit]").disabled = true;
    send(new FormData(form), 1);
  });
}

document.addEventListener("DOMContentLoaded", sendFilesInTheBackground);
