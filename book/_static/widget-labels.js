/* Saved ipywidgets sliders, as the Jupyter widgets HTML manager draws them, give each handle
 * role="slider" but no accessible name: the widget's description is a separate <label> that
 * nothing points at. This names each handle after its widget's visible description, and gives
 * an image widget's picture (which has no alt text) a description. Loaded on pages with saved
 * widgets only; the manager draws them after the page has loaded, hence the observer. */
(function () {
  "use strict";
  function nameHandles() {
    var handles = document.querySelectorAll('.widget-slider [role="slider"]:not([aria-label])');
    handles.forEach(function (handle) {
      var label = handle.closest(".widget-slider").querySelector(".widget-label");
      var text = label ? label.textContent.trim() : "";
      if (text) handle.setAttribute("aria-label", text);
    });
    document.querySelectorAll("img.widget-image:not([alt])").forEach(function (image) {
      image.setAttribute("alt", "the picture the widget drew for the settings shown above it");
    });
  }
  new MutationObserver(nameHandles).observe(document.documentElement, {
    childList: true,
    subtree: true,
  });
})();
