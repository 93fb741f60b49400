/**
 * Where the hosts' S3 client is: s3.sh, a real shell file shipped with the package (package.json "files")
 * beside this module's source, that the backup programs source on every host.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** components/backup/host/s3.sh of this package (this module runs from dist/components/backup/host/). */
export const S3_SHELL_LIBRARY_FILE = path.resolve(__dirname, "..", "..", "..", "..", "components", "backup", "host", "s3.sh");

/** The text of s3.sh, to be written on a host. */
export function s3ShellLibrary(): string {
    return fs.readFileSync(S3_SHELL_LIBRARY_FILE, "utf8");
}
