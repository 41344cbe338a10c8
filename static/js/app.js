// Progressive enhancement only: every page works without JavaScript.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.getAttribute("data-confirm"))) {
    event.preventDefault();
  }
  var print = event.target.closest("[data-print]");
  if (print) {
    event.preventDefault();
    window.print();
  }
});
