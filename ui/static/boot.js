// Runs before the first paint: the last tenant's colors and name, so a branded app never
// flashes the default theme while the wasm loads.
(function () {
  try {
    var css = localStorage.getItem("roost.theme");
    if (css) document.documentElement.setAttribute("style", css);
    var company = localStorage.getItem("roost.company");
    if (company) document.title = company;
  } catch (e) { /* storage unavailable: default theme */ }
})();
