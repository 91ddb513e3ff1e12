// Swagger UI (swagger-ui-dist, served by the app from node_modules) over the app's own OpenAPI
// document, found under the API prefix the console's config names.
fetch("/console/config.json")
  .then((response) => response.json())
  .then((config) => {
    window.SwaggerUIBundle({
      url: `${config.apiPrefix}/openapi.json`,
      dom_id: "#swagger-ui",
      deepLinking: true,
    });
  });
