// docket's pages work without this script; it only helps.
document.addEventListener("DOMContentLoaded", function () {
  // Media stay blurred until someone chooses to see them.
  document.querySelectorAll("img.media").forEach(function (img) {
    img.addEventListener("click", function () { img.classList.toggle("blurred"); });
  });
  // Select every case of the queue at once.
  var all = document.getElementById("all");
  if (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll("input.pick").forEach(function (box) { box.checked = all.checked; });
    });
  }
});
