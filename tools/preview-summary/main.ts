/**
 * `node dist/tools/preview-summary/main.js EVENT_LOG`: print the summary of a preview from its engine event
 * log (scripts/preview.sh writes it). Exits 1 when the preview failed or was refused, or a mandatory policy
 * is violated; 2 when there is no event log to read.
 */
import * as fs from "node:fs";
import { parseEventLog } from "./engineEvents";
import { previewBlocks, renderSummary } from "./render";
import { summarizePreview } from "./summarize";

const file = process.argv[2];
if (!file) {
    console.error("usage: main.js EVENT_LOG (the file of `pulumi preview --event-log`)");
    process.exit(2);
}
const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
if (text.trim() === "") {
    console.error(`[preview] no engine events in ${file}: the preview stopped before the engine ran (its error is above)`);
    process.exit(2);
}
const summary = summarizePreview(parseEventLog(text));
process.stdout.write(renderSummary(summary));
process.exitCode = previewBlocks(summary) ? 1 : 0;
