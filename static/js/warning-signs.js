// On the patient's questions page: as soon as an answer that is an urgent warning sign
// is ticked, put the "get help now" message into the alert region (so screen readers
// announce it) and bring it into view; take it away when no such answer is ticked.
document.addEventListener("DOMContentLoaded", function () {
  var region = document.getElementById("urgent-alert");
  var message = document.getElementById("urgent-alert-message");
  var inputs = Array.prototype.slice.call(document.querySelectorAll("input[data-urgent]"));
  if (!region || !message || !inputs.length) {
    return;
  }
  function ticksUrgentSign() {
    return inputs.some(function (input) {
      return input.checked && input.dataset.urgent.split(" ").indexOf(input.value) !== -1;
    });
  }
  function update() {
    if (!ticksUrgentSign()) {
      region.replaceChildren();
    } else if (!region.firstElementChild) {
      region.appendChild(message.content.cloneNode(true));
      region.scrollIntoView({ block: "nearest" });
    }
  }
  inputs.forEach(function (input) {
    input.addEventListener("change", update);
  });
});
