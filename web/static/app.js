// docket's pages work without this script; it only helps.
document.addEventListener("DOMContentLoaded", function () {
  // Media stay blurred until someone chooses to see them. A picture found in a hash bank is
  // not even loaded until asked for: the first click loads it, still blurred.
  document.querySelectorAll("img.media").forEach(function (img) {
    img.addEventListener("click", function () {
      if (img.dataset.src && !img.getAttribute("src")) {
        img.src = img.dataset.src;
        img.classList.remove("held");
        return;
      }
      img.classList.toggle("blurred");
    });
  });
  // Select every case of the queue at once.
  var all = document.getElementById("all");
  if (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll("input.pick").forEach(function (box) { box.checked = all.checked; });
    });
  }
});
