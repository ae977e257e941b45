"use strict";
// Swagger UI over cap's OpenAPI document. A file of its own, not an inline script: the page
// is served under the same Content-Security-Policy as every other (script-src 'self').
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapi,
    dom_id: "#swagger-ui",
    // Without deep links: they put a link inside each operation's button (axe:
    // nested-interactive), which a screen reader cannot reach apart.
    deepLinking: false,
    // Nothing leaves for swagger.io's validator; a token typed in is not kept in the browser.
    validatorUrl: null,
    persistAuthorization: false,
    onComplete: function () {
      // Swagger UI's list of servers has no label of its own.
      var servers = document.getElementById("servers");
      if (servers) servers.setAttribute("aria-label", "Server");
    },
  });
});
