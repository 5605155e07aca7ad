// The full-page app (start_gui() and Jupyter's /lightly-studio/): the notebook's views on an
// HTTP/WebSocket model shim. See js/src/app/.

import { startApp } from "../app/page";

const root = document.getElementById("lightly-studio-app");
if (root) void startApp(root);
