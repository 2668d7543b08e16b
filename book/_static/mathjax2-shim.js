/* The Jupyter widgets HTML manager typesets widget labels with MathJax 2's
 * MathJax.Hub.Queue(["Typeset", MathJax.Hub, element]); this book loads MathJax 3, which has no
 * Hub, so without this shim every widget label throws. Loaded (on pages with saved widgets)
 * before the manager; installed once MathJax 3 has replaced its configuration object. */
(function () {
  "use strict";
  function install() {
    var mj = window.MathJax;
    if (!mj || mj.Hub) return;
    mj.Hub = {
      Queue: function (job) {
        var element = job && job[2];
        if (element && typeof mj.typesetPromise === "function") {
          mj.typesetPromise([element]).catch(function () {});
        }
      },
    };
  }
  install();
  document.addEventListener("DOMContentLoaded", install);
})();
