// Starts GraphiQL in #graphiql. This file is ours (not vendored): queries and mutations go over
// HTTP, subscriptions over the graphql-transport-ws WebSocket; the dashboard's session cookie goes
// along with both, and an API token can be set in the Headers tab.
(function () {
  "use strict";
  var root = document.getElementById("graphiql");
  var endpoint = root.getAttribute("data-endpoint");
  var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  var fetcher = GraphiQL.createFetcher({
    url: endpoint,
    subscriptionUrl: scheme + "//" + window.location.host + endpoint,
  });
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, { fetcher: fetcher, defaultEditorToolsVisibility: true })
  );
})();
