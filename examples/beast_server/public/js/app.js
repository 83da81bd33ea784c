// The page's module. It imports ./status.js by its untagged name: the page's import map
// (kImportMap) maps that to the tagged, immutable URL, with its integrity.
import { describeLoad } from "./status.js";

const status = document.getElementById("status");
if (status) status.textContent = describeLoad(performance);
