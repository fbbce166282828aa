import init from "./roost_ui.js";
init();
